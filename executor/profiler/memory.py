"""Memory bandwidth: a large device-to-device copy, and the memory-bound kernels of a layer.

Copy: `dst.copy_(src)` of a buffer much larger than any cache; bytes moved = read + written
(2 × size), the convention of the STREAM copy kernel (McCalpin 1995) and of the figures in
shared/reference/hardware.md.

Kernels: layer norm, GELU, softmax and the residual add — the kernels planner/cost/compute.ts
prices as bytes over achieved bandwidth (Korthikanti et al. 2022 §4.1). Each reports the bytes the
planner counts for it, at 2 bytes per element (16-bit activations) whatever dtype ran, so that
bytes / seconds is directly the bandwidth the planner should assume:
  layer norm   read T·h, write T·h            4·T·h bytes
  GELU         read T·4h, write T·4h         16·T·h bytes
  softmax      read, write B·a·s·s            4·B·a·s² bytes
  residual add read 2·T·h, write T·h          6·T·h bytes
They run in bf16 on GPUs and in fp32 on CPU (the CPU worker trains in fp32).

Like the copy, every kernel's smallest operand is at least twice the last-level cache (the CPU's
L3, the GPU's L2), so each call streams from memory rather than re-reading a cache-hot working set
(QA: residual_add on 2–8 MB tensors in a 32 MB L3 ran at 146–172% of the copy's bandwidth). Each
timing is repeated REPEATS times; the events carry every repeat and their spread, which
src/profile/build.ts reports where it exceeds 20% (a busy machine).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

import glob
import math

from .common import Progress, emit, spread, time_call

REPEATS = 5
DEFAULT_CACHE = 32 << 20  # where the cache size cannot be read (src/profile/schedule.ts DEFAULT_CACHE)

SHAPES = {
    # (copy bytes, tokens, hidden, softmax batch·heads, softmax seq)
    ("cuda", False): (2 << 30, 8192, 8192, 64, 2048),
    ("cuda", True): (1 << 30, 4096, 8192, 32, 2048),
    ("cpu", False): (256 << 20, 4096, 512, 8, 512),
    ("cpu", True): (64 << 20, 2048, 256, 4, 512),
}


def last_level_cache(device: torch.device) -> int:
    """Bytes of the largest cache: the GPU's L2 (torch's device properties), the CPU's largest
    /sys/devices/system/cpu/cpu0/cache/index*/size; DEFAULT_CACHE where neither is readable."""
    if device.type == "cuda":
        size = getattr(torch.cuda.get_device_properties(device), "L2_cache_size", 0)
        return int(size) or DEFAULT_CACHE
    sizes = []
    for path in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        try:
            text = open(path).read().strip().upper()
            sizes.append(int(text[:-1]) * {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[text[-1]] if text[-1] in "KMG" else int(text))
        except (OSError, ValueError, KeyError):
            continue
    return max(sizes, default=DEFAULT_CACHE)


def shapes(device: torch.device, quick: bool, cache: int) -> tuple[int, int, int, int, int]:
    """SHAPES, each size raised to a power of two so that the copy's buffer, a kernel's (tokens ×
    hidden) activation and the softmax's scores each hold at least 2 × `cache` bytes."""
    copy_bytes, tokens, hidden, bh, seq = SHAPES[(device.type, quick)]
    element = 2 if device.type == "cuda" else 4
    need = 2 * cache

    def pow2_at_least(x: float) -> int:
        return 1 << max(0, math.ceil(math.log2(x)))

    copy_bytes = max(copy_bytes, pow2_at_least(need))
    tokens = max(tokens, pow2_at_least(need / (hidden * element)))
    bh = max(bh, pow2_at_least(need / (seq * seq * element)))
    return copy_bytes, tokens, hidden, bh, seq


def kernels(device: torch.device, tokens: int, hidden: int, bh: int, seq: int):
    """(name, planner bytes, closure) of each memory-bound kernel."""
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    x = torch.randn(tokens, hidden, device=device, dtype=dtype)
    y = torch.randn(tokens, hidden, device=device, dtype=dtype)
    w = torch.ones(hidden, device=device, dtype=dtype)
    b = torch.zeros(hidden, device=device, dtype=dtype)
    wide = torch.randn(tokens, 4 * hidden, device=device, dtype=dtype)
    scores = torch.randn(bh, seq, seq, device=device, dtype=dtype)
    th = tokens * hidden
    if device.type == "cpu":
        # Into outputs allocated once: a fresh output of 2 × the cache is mmap'd and page-faulted on
        # every call by the CPU allocator (glibc's mmap threshold is 32 MiB at most), which measured
        # residual_add at 7 GB/s against 46 GB/s into a kept output. GPUs' caching allocator reuses
        # the block, so there the functional form, as the worker calls it, is timed.
        aten = torch.ops.aten
        out, wide_out, scores_out = torch.empty_like(x), torch.empty_like(wide), torch.empty_like(scores)
        mean, rstd = torch.empty(tokens, 1, dtype=dtype), torch.empty(tokens, 1, dtype=dtype)
        return [
            ("layer_norm", 4 * th, lambda: aten.native_layer_norm.out(x, [hidden], w, b, 1e-5, out0=out, out1=mean, out2=rstd)),
            ("gelu", 16 * th, lambda: aten.gelu.out(wide, out=wide_out)),
            ("softmax", 4 * bh * seq * seq, lambda: aten._softmax.out(scores, -1, False, out=scores_out)),
            ("residual_add", 6 * th, lambda: torch.add(x, y, out=out)),
        ]
    return [
        ("layer_norm", 4 * th, lambda: F.layer_norm(x, (hidden,), w, b)),
        ("gelu", 16 * th, lambda: F.gelu(wide)),
        ("softmax", 4 * bh * seq * seq, lambda: torch.softmax(scores, dim=-1)),
        ("residual_add", 6 * th, lambda: torch.add(x, y)),
    ]


def run(device: torch.device, quick: bool, progress: bool = True) -> None:
    copy_bytes, tokens, hidden, bh, seq = shapes(device, quick, last_level_cache(device))
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        while copy_bytes * 2 > free * 0.8 and copy_bytes > 64 << 20:
            copy_bytes //= 2
    target = 0.02 if device.type == "cuda" else 0.05
    bar = Progress("memory", 5, progress)
    src = torch.empty(copy_bytes // 4, device=device, dtype=torch.float32).uniform_()
    dst = torch.empty_like(src)
    repeats: list[float] = []
    seconds = time_call(lambda: dst.copy_(src), device, target, repeats=REPEATS, samples=repeats)
    emit("copy", bytes=2 * copy_bytes, seconds=seconds, bytesPerSecond=2 * copy_bytes / seconds, repeats=repeats, spread=spread(repeats))
    del src, dst
    bar.step("copy")
    for name, nbytes, fn in kernels(device, tokens, hidden, bh, seq):
        repeats = []
        seconds = time_call(fn, device, target, repeats=REPEATS, samples=repeats)
        emit("kernel", name=name, bytes=nbytes, seconds=seconds, bytesPerSecond=nbytes / seconds, repeats=repeats, spread=spread(repeats))
        bar.step(name)
    if device.type == "cuda":
        torch.cuda.empty_cache()
