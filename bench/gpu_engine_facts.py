"""Measure the `paraplan` engines' launch and activation facts on one GPU (issue 12, §1).

The engine profiles profiles/engines/paraplan.json and paraplan-compile.json carry priors for
what the worker's model does per layer: how many kernels a block launches forward and backward
(launch.kernelsPerLayer, launch.backwardFactor), what the host spends per kernel
(launch.perKernel), and how many bytes of activations a block keeps under bf16 autocast. This
script measures them with the worker's own modules (executor/worker/model.py, compile.py), on one
device, with nothing fitted:

  kernels   torch.profiler's device kernels of one micro-batch's forward and of its backward, for
            a model of L1 and L2 layers; per layer = difference / (L2 − L1) (the embedding, head
            and loss cancel). A second micro-batch is profiled, so the fp32 gradients already
            exist and are accumulated into, as under gradient accumulation.
  host      a model so small that every kernel is shorter than its launch: wall time of
            forward + backward per kernel, L1 vs L2 layers again (the host cost per kernel).
  step      the worker's loop (autocast per micro-batch, fp32 gradients accumulated, fused
            AdamW) at gpt3-1.3b's shape: one step's wall time and the sum of its kernel times
            (the GPU's busy time) for micro-batch 1, 2 and 4 at the same tokens a step.
  memory    activation bytes one block keeps for the backward: memory allocated after the
            forward, L1 vs L2 layers, divided by (L2 − L1)·b·s·h: bytes per token and hidden
            unit (Korthikanti et al. 2022 count 34 at 16 bits, with flash attention's s² terms
            gone), with no recompute and with whole-block recompute.
  loss      peak bytes per logit element of the head and loss, forward and backward.

  python bench/gpu_engine_facts.py [--out DIR] [--quick] [--only memory,step] [--file NAME]
(--quick: tiny shapes, a CPU test; --only: the measurements whose names start so). Writes
DIR/NAME (DIR: $OUT, else bench/results; NAME: engine-facts.json) and prints each figure.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import traceback
from contextlib import nullcontext

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from executor.profiler.common import synchronize, time_call  # noqa: E402
from executor.worker.compile import compile_blocks  # noqa: E402
from executor.worker.model import build_meta_model, cross_entropy, materialize  # noqa: E402
from executor.worker.spec import ModelSpec  # noqa: E402
from executor.worker.trace import _activity, merge  # noqa: E402

from torch.profiler import ProfilerActivity, profile  # noqa: E402
from torch.utils.checkpoint import checkpoint  # noqa: E402


def spec(style: str, layers: int, hidden: int, heads: int, seq: int, vocab: int = 50304,
         kv_heads: int = 0, ffn: int = 0) -> ModelSpec:
    """A GPT-style (LayerNorm, GELU, learned positions) or Llama-style (RMSNorm, SwiGLU, RoPE)
    model; kv_heads and ffn default to MHA and 4h (GPT), heads/3 and 8h/3 (Llama)."""
    gpt = style == "gpt"
    return ModelSpec(name=f"{style}-{layers}x{hidden}", layers=layers, hidden=hidden, heads=heads,
                     kv_heads=kv_heads or (heads if gpt else max(1, heads // 3)),
                     ffn_hidden=ffn or (4 * hidden if gpt else (8 * hidden) // 3 // 64 * 64),
                     vocab=vocab, seq_len=seq, mlp="gelu" if gpt else "swiglu",
                     positional="learned" if gpt else "rope", tied=False)


def build(s: ModelSpec, dev: torch.device, compiled: bool):
    model = materialize(build_meta_model(s, s.vocab, s.seq_len), dev, seed=0)
    if compiled:
        compile_blocks(model)
    return model


def autocast(dev: torch.device):
    return torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" else nullcontext()


def sync(dev: torch.device) -> None:
    synchronize(dev)


def timed(fn, dev: torch.device, reps: int, warmup: int = 2) -> float:
    """Mean seconds of fn() over `reps` calls after `warmup` (compilation, allocation): the
    profiler's time_call as one batch of exactly `reps` calls."""
    return time_call(fn, dev, target_s=1e9, max_iters=reps, repeats=1, warmup=warmup)


def batch(s: ModelSpec, b: int, dev: torch.device):
    g = torch.Generator().manual_seed(1)
    t = torch.randint(0, s.vocab, (b, s.seq_len + 1), generator=g)
    return t[:, :-1].contiguous().to(dev), t[:, 1:].contiguous().to(dev)


def count_kernels(fn, dev: torch.device) -> tuple[int, float]:
    """(kernels, seconds the device was busy with them: the union of their spans) of fn(); on CPU
    the top-level CPU ops and no busy time (a test of the script)."""
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
    with profile(activities=acts) as prof:
        fn()
        sync(dev)
    if dev.type != "cuda":
        return sum(1 for e in prof.events() if e.cpu_parent is None), 0.0
    spans = [(e.start_ns() * 1e-9, (e.start_ns() + e.duration_ns()) * 1e-9)
             for e in prof.profiler.kineto_results.events() if _activity(e) in ("kernel", "gpu_memset", "gpu_memcpy")]
    return len(spans), sum(b - a for a, b in merge(spans, 0.0))


def passes(model, x, y, dev):
    """(forward closure, backward closure) of one micro-batch; the backward needs the forward."""
    state = {}

    def fwd():
        with autocast(dev):
            logits = model(x)
        state["loss"] = cross_entropy(logits, y)

    def bwd():
        state["loss"].backward()
        del state["loss"]
    return fwd, bwd


def kernels_per_layer(style, dims, dev, compiled, l1, l2, b):
    """Per-layer device kernels forward and backward, from L1- and L2-layer models."""
    got = {}
    for L in (l1, l2):
        s = spec(style, L, *dims)
        model = build(s, dev, compiled)
        x, y = batch(s, b, dev)
        fwd, bwd = passes(model, x, y, dev)
        for _ in range(3):  # warm-up, compile, and fp32 .grad allocated (accumulated into after)
            fwd(); bwd()
        sync(dev)
        nf, _ = count_kernels(fwd, dev)
        nb, _ = count_kernels(bwd, dev)
        got[L] = (nf, nb)
        del model
    d = l2 - l1
    f = (got[l2][0] - got[l1][0]) / d
    bk = (got[l2][1] - got[l1][1]) / d
    return {"forward": f, "backward": bk, "backwardFactor": bk / f if f else None,
            "raw": {str(k): {"forward": v[0], "backward": v[1]} for k, v in got.items()}}


def host_per_kernel(style, dev, compiled, l1, l2, reps):
    """Host seconds per kernel: tiny blocks (every kernel shorter than its launch), wall time of
    forward + backward per layer over kernels per layer."""
    dims = (128, 2, 64, 512)  # hidden, heads, seq, vocab: microseconds of GPU work a kernel
    k = kernels_per_layer(style, dims, dev, compiled, l1, l2, 1)
    wall = {}
    for L in (l1, l2):
        s = spec(style, L, *dims)
        model = build(s, dev, compiled)
        x, y = batch(s, 1, dev)
        fwd, bwd = passes(model, x, y, dev)
        wall[L] = timed(lambda: (fwd(), bwd()), dev, reps, warmup=3)
        del model
    per_layer = (wall[l2] - wall[l1]) / (l2 - l1)
    kernels = k["forward"] + k["backward"]
    return {"perKernelSeconds": per_layer / kernels if kernels else None, "layerSeconds": per_layer,
            "kernelsPerLayer": kernels, "wall": {str(a): v for a, v in wall.items()}}


def step_busy(dev, compiled, dims, layers, tokens_mb, mbs, steps):
    """The worker's loop at one shape: wall and kernel-busy seconds of one step for each
    micro-batch size, the same tokens a step."""
    s = spec("gpt", layers, *dims)
    model = build(s, dev, compiled)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=dev.type == "cuda")
    out = {}
    for b in mbs:
        m = tokens_mb // b
        x, y = batch(s, b, dev)

        def one_step():
            for _ in range(m):
                with autocast(dev):
                    logits = model(x)
                (cross_entropy(logits, y) / m).backward()
            opt.step()
            opt.zero_grad()
        wall = timed(one_step, dev, steps)
        n, busy = count_kernels(one_step, dev)
        out[str(b)] = {"microBatches": m, "wall": wall, "busy": busy, "kernels": n}
        print(f"  step mb {b} x {m}: wall {wall:.4f} s, kernels busy {busy:.4f} s, {n} kernels", flush=True)
    return out


def activation_bytes(style, dims, dev, l1, l2, b, recompute, compiled=False):
    """Bytes a block keeps for the backward per token and hidden unit, recompute "none" or "full"
    (each block's forward under a non-reentrant checkpoint, as the worker's full recompute keeps
    only its input). dims: (hidden, heads, seq, vocab[, kv_heads, ffn]). (Wrapping the blocks with
    the worker's own parallel.apply_ac instead measured memory falling below the pre-forward
    figure on the H200, for full and per-op selective alike, eager or compiled: an artefact of
    this method not understood, so those are not measured here.)"""
    kept = {}
    for L in (l1, l2):
        s = spec(style, L, *dims)
        model = build(s, dev, compiled)
        if recompute == "full":
            for blk in model.layers.values():
                blk.forward = (lambda f: lambda *a: checkpoint(f, *a, use_reentrant=False))(blk.forward)
        x, y = batch(s, b, dev)
        gc.collect()  # the previous model's checkpoint wrappers hold reference cycles
        sync(dev)
        base = torch.cuda.memory_allocated() if dev.type == "cuda" else 0
        with autocast(dev):
            h = model.embed(x)
            cos = model.rope_cos if model.rope else None
            sin = model.rope_sin if model.rope else None
            for layer in model.layers.values():
                h = layer(h, cos, sin)
        sync(dev)
        kept[L] = (torch.cuda.memory_allocated() if dev.type == "cuda" else 0) - base
        del h, model
    tokens = b * dims[2]  # (b, s) a micro-batch
    per = (kept[l2] - kept[l1]) / (l2 - l1)
    return {"bytesPerLayer": per, "bytesPerTokenHidden": per / (tokens * dims[0]),
            "raw": {str(k): v for k, v in kept.items()}}


def loss_bytes(style, dims, dev, s1, s2):
    """Peak bytes per logit element of the worker's head and loss (final norm, output linear under
    autocast, cross_entropy over fp32 logits), forward and backward: the peak above the inputs at
    s2 tokens less that at s1, over (s2 − s1)·V, so the weight-sized buffers cancel."""
    peak = {}
    for seq in (s1, s2):
        s = spec(style, 1, dims[0], dims[1], seq, dims[3])
        model = materialize(build_meta_model(s, s.vocab, s.seq_len), dev, seed=0)
        _, y = batch(s, 1, dev)
        x = torch.randn(1, seq, dims[0], device=dev, requires_grad=True)
        sync(dev)
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated() if dev.type == "cuda" else 0
        with autocast(dev):
            logits = model.output(model.norm(x))
        loss = cross_entropy(logits, y)
        del logits
        loss.backward()
        sync(dev)
        peak[seq] = (torch.cuda.max_memory_allocated() if dev.type == "cuda" else 0) - base
        del x, loss, model
    per = (peak[s2] - peak[s1]) / ((s2 - s1) * dims[3])
    return {"bytesPerLogit": per, "raw": {str(k): v for k, v in peak.items()}}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.environ.get("OUT") or "bench/results")
    ap.add_argument("--quick", action="store_true", help="tiny shapes (a CPU test of the script)")
    ap.add_argument("--only", default="", help="comma-separated name prefixes of the measurements to run")
    ap.add_argument("--file", default="engine-facts.json", help="the JSON written under --out")
    ap.add_argument("--repeat", type=int, default=1, help="run the list this many times, keep the last (the first pays one-time allocations: cuBLAS's workspace)")
    args = ap.parse_args()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    quick = args.quick or dev.type == "cpu"
    facts = {"device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
             "torch": torch.__version__, "quick": quick, "results": {}}
    path = os.path.join(args.out, args.file)
    os.makedirs(args.out, exist_ok=True)

    def save():
        with open(path, "w") as f:
            json.dump(facts, f, indent=1)

    big = (256, 4, 128, 1024) if quick else (2048, 16, 2048, 50304)  # gpt3-1.3b's block
    llama = (384, 6, 128, 1024) if quick else (3072, 24, 2048, 128256)  # llama3.2-3b's width
    jobs = []
    for compiled in (False, True):
        mode = "compiled" if compiled else "eager"
        for style, dims in (("gpt", big), ("llama", llama)):
            jobs.append((f"kernels/{style}/{mode}", lambda st=style, d=dims, c=compiled: kernels_per_layer(st, d, dev, c, 2, 4, 1)))
        jobs.append((f"host/gpt/{mode}", lambda c=compiled: host_per_kernel("gpt", dev, c, 2, 6, 5 if quick else 50)))
    for rc in ("none", "full"):
        for style, dims in (("gpt", big), ("llama", llama)):
            jobs.append((f"memory/{style}/{rc}", lambda st=style, d=dims, r=rc: activation_bytes(st, d, dev, 2, 4, 1, r)))
            if rc == "none":  # (compiled blocks inside this script's checkpoint measured nothing usable)
                jobs.append((f"memory/{style}/{rc}/compiled", lambda st=style, d=dims, r=rc: activation_bytes(st, d, dev, 2, 4, 1, r, True)))
    for style, dims in (("gpt", big), ("llama", llama)):
        jobs.append((f"loss/{style}", lambda st=style, d=dims: loss_bytes(st, d, dev, d[2] // 2, d[2])))
    # Other shapes, to test a tensor list derived from the two above: GQA and a 3h MLP on the GPT
    # block, multi-head attention and a wider MLP on the Llama one.
    other = {"gpt": big[:4] + (big[1] // 4, 3 * big[0]), "llama": llama[:4] + (llama[1], 4 * llama[0])}
    for style, dims in other.items():
        for compiled in (False, True):
            jobs.append((f"memory-other/{style}/none/{'compiled' if compiled else 'eager'}", lambda st=style, d=dims, c=compiled: activation_bytes(st, d, dev, 2, 4, 2, "none", c)))
    for compiled in (True, False):
        jobs.append((f"step/gpt/{'compiled' if compiled else 'eager'}",
                     lambda c=compiled: step_busy(dev, c, big, 2 if quick else 24, 4, (1, 2, 4), 2 if quick else 3)))
    only = [p for p in args.only.split(",") if p]
    for name, job in [j for _ in range(args.repeat) for j in jobs]:
        if only and not any(name.startswith(p) for p in only):
            continue
        t0 = time.perf_counter()
        try:
            facts["results"][name] = job()
            print(f"{name}: {json.dumps(facts['results'][name])[:300]} ({time.perf_counter() - t0:.1f} s)", flush=True)
        except Exception as exc:  # one failed measurement must not lose the others
            facts["results"][name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"{name}: failed: {exc}", flush=True)
            traceback.print_exc()
        if dev.type == "cuda":
            torch.cuda.empty_cache()
        save()
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
