"""Matmul throughput over the GEMM shapes of transformer layers.

The shapes are those of Megatron-LM's column/row-parallel linear layers (Shoeybi et al. 2019 §3;
planner/cost/flops.ts `layerGemms`, MHA with a 4h MLP): for T tokens, hidden h and tensor-parallel
size t, QKV [T, h]·[h, 3h/t], projection [T, h/t]·[h/t, h], MLP up [T, h]·[h, 4h/t] and down
[T, 4h/t]·[4h/t, h]. The efficiency table keys each result by the FLOPs of one GEMM, 2·m·n·k.

bf16 is the table's precision on GPUs (the planner's default); fp16, tf32 and fp8 (torch._scaled_mm
on compute capability >= 8.9, e4m3 inputs, bf16 output) run on a smaller grid and are reported
beside it. On CPU the matmuls run in fp32, the precision the CPU worker trains in.

On CPU a GEMM is timed as the worker calls it (executor/worker/model.py): an nn.Linear module on a
(1, tokens, k) activation, its weight a parameter autograd records a node for. There is no kernel
queue on CPU ranks: the module call, the op dispatch and the output's allocation are paid on every
call and are what dominates the small GEMMs of small models, and the planner prices them inside the
matmul efficiency (profiles/hardware/cpu.json hostRunsOps). On GPUs the kernel alone is timed
(`matmul(out=)` back to back); the host's per-op cost there is the engine's launch term.
"""
from __future__ import annotations

import torch

from .common import Progress, emit, time_call

# tokens × hidden × tp grids. GPU: tokens 2048..16384 as in the issue; hidden 1024 adds the small
# GEMMs (down to ~5e8 FLOPs) that tp 8 on small models runs. CPU: down to the layers of the `tiny`
# model (profiles/models/tiny.json: hidden 64, 32 tokens a sequence): 32 tokens of hidden 64 at tp 2
# is the projection 2·32·64·32 = 1.3e5 FLOPs, below tiny's smallest GEMM at micro-batch 1.
GRIDS = {
    ("cuda", False): {"tokens": (2048, 4096, 8192, 16384), "hidden": (1024, 4096, 8192, 12288), "tp": (1, 2, 4, 8)},
    ("cuda", True): {"tokens": (2048, 8192), "hidden": (1024, 4096, 8192), "tp": (1, 8)},
    ("cpu", False): {"tokens": (32, 128, 512), "hidden": (64, 128, 256, 512), "tp": (1, 2)},
    ("cpu", True): {"tokens": (32, 256), "hidden": (64, 128, 512), "tp": (1, 2)},
}
SIDE_GRIDS = {  # fp16, tf32, fp8 on GPUs
    False: {"tokens": (2048, 8192), "hidden": (4096, 8192), "tp": (1, 8)},
    True: {"tokens": (8192,), "hidden": (8192,), "tp": (1,)},
}


def layer_gemms(tokens: int, hidden: int, tp: int) -> list[tuple[int, int, int]]:
    """(m, n, k) of the four forward GEMMs of one layer on one tensor-parallel rank."""
    return [
        (tokens, 3 * hidden // tp, hidden),
        (tokens, hidden, hidden // tp),
        (tokens, 4 * hidden // tp, hidden),
        (tokens, hidden, 4 * hidden // tp),
    ]


def grid_shapes(grid: dict) -> list[tuple[int, int, int]]:
    shapes = {g for t in grid["tokens"] for h in grid["hidden"] for p in grid["tp"] for g in layer_gemms(t, h, p)}
    return sorted(shapes, key=lambda s: (2 * s[0] * s[1] * s[2], s))


def fp8_supported(device: torch.device) -> bool:
    return (
        device.type == "cuda"
        and hasattr(torch, "_scaled_mm")
        and hasattr(torch, "float8_e4m3fn")
        and torch.cuda.get_device_capability(device) >= (8, 9)
    )


def plan(device: torch.device, quick: bool) -> list[tuple[str, tuple[int, int, int]]]:
    """(dtype, shape) pairs to measure, table precision first."""
    if device.type == "cpu":
        return [("fp32", s) for s in grid_shapes(GRIDS[("cpu", quick)])]
    jobs = [("bf16", s) for s in grid_shapes(GRIDS[("cuda", quick)])]
    side = grid_shapes(SIDE_GRIDS[quick])
    for dtype in ("fp16", "tf32") + (("fp8",) if fp8_supported(device) else ()):
        jobs += [(dtype, s) for s in side]
    return jobs


def worker_linear_fn(m: int, n: int, k: int, device: torch.device):
    """A closure calling a bias-free nn.Linear(k → n) on a (1, m, k) activation, as the worker's
    layers do (module call, autograd node, output allocated each call): one (m×k)·(k×n) product."""
    layer = torch.nn.Linear(k, n, bias=False, device=device, dtype=torch.float32)
    x = torch.randn(1, m, k, device=device, dtype=torch.float32)
    return lambda: layer(x)


def gemm_fn(dtype: str, m: int, n: int, k: int, device: torch.device):
    """A closure computing one (m×k)·(k×n) product in `dtype`: on CPU as the worker calls it
    (worker_linear_fn), on GPUs the kernel alone."""
    if device.type == "cpu":
        return worker_linear_fn(m, n, k, device)
    if dtype == "fp8":
        a = torch.randn(m, k, device=device).to(torch.float8_e4m3fn)
        b = torch.randn(n, k, device=device).to(torch.float8_e4m3fn).t()  # column-major, as cuBLASLt wants
        one = torch.ones((), device=device, dtype=torch.float32)

        def run():
            out = torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
            return out[0] if isinstance(out, tuple) else out  # torch < 2.4 returned (out, amax)

        return run
    torch_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "tf32": torch.float32, "fp32": torch.float32}[dtype]
    a = torch.randn(m, k, device=device, dtype=torch_dtype)
    b = torch.randn(k, n, device=device, dtype=torch_dtype)
    out = torch.empty(m, n, device=device, dtype=torch_dtype)
    return lambda: torch.matmul(a, b, out=out)


def run(device: torch.device, quick: bool, progress: bool = True) -> None:
    jobs = plan(device, quick)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # only fp32 tensors (the tf32 rows) use it
        torch.backends.cuda.matmul.allow_bf16_reduced_precision_reduction = True
    target = (0.004 if quick else 0.01) if device.type == "cuda" else (0.01 if quick else 0.03)
    bar = Progress("matmul", len(jobs), progress)
    for dtype, (m, n, k) in jobs:
        label = f"{dtype} {m}x{n}x{k}"
        try:
            fn = gemm_fn(dtype, m, n, k, device)
            seconds = time_call(fn, device, target, repeats=2 if quick else 3)
            flops = 2 * m * n * k
            emit("matmul", dtype=dtype, m=m, n=n, k=k, flops=flops, seconds=seconds, flopsPerSecond=flops / seconds)
        except (RuntimeError, torch.cuda.OutOfMemoryError) as e:  # OOM or an unsupported kernel: skip the shape
            emit("skipped", phase="matmul", label=label, reason=str(e).split("\n")[0][:200])
        finally:
            fn = None
            if device.type == "cuda":
                torch.cuda.empty_cache()
        bar.step(label)
