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
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .common import Progress, emit, time_call

SHAPES = {
    # (copy bytes, tokens, hidden, softmax batch·heads, softmax seq)
    ("cuda", False): (2 << 30, 8192, 8192, 64, 2048),
    ("cuda", True): (1 << 30, 4096, 8192, 32, 2048),
    ("cpu", False): (256 << 20, 4096, 512, 8, 512),
    ("cpu", True): (64 << 20, 2048, 256, 4, 512),
}


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
    return [
        ("layer_norm", 4 * th, lambda: F.layer_norm(x, (hidden,), w, b)),
        ("gelu", 16 * th, lambda: F.gelu(wide)),
        ("softmax", 4 * bh * seq * seq, lambda: torch.softmax(scores, dim=-1)),
        ("residual_add", 6 * th, lambda: torch.add(x, y)),
    ]


def run(device: torch.device, quick: bool, progress: bool = True) -> None:
    copy_bytes, tokens, hidden, bh, seq = SHAPES[(device.type, quick)]
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        while copy_bytes * 2 > free * 0.8 and copy_bytes > 64 << 20:
            copy_bytes //= 2
    target = 0.02 if device.type == "cuda" else 0.05
    bar = Progress("memory", 5, progress)
    src = torch.empty(copy_bytes // 4, device=device, dtype=torch.float32).uniform_()
    dst = torch.empty_like(src)
    seconds = time_call(lambda: dst.copy_(src), device, target, repeats=3)
    emit("copy", bytes=2 * copy_bytes, seconds=seconds, bytesPerSecond=2 * copy_bytes / seconds)
    del src, dst
    bar.step("copy")
    for name, nbytes, fn in kernels(device, tokens, hidden, bh, seq):
        seconds = time_call(fn, device, target, repeats=3)
        emit("kernel", name=name, bytes=nbytes, seconds=seconds, bytesPerSecond=nbytes / seconds)
        bar.step(name)
    if device.type == "cuda":
        torch.cuda.empty_cache()
