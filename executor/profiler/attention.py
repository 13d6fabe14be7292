"""Attention core: scaled-dot-product attention forward and backward, causal, as the worker runs
it (executor/worker/model.py). The emitted FLOPs follow the reporting convention
(planner/cost/flops.ts `attentionFlops`: 4·b·s²·h forward over the full s×s square, backward 2×
forward, Narayanan et al. 2021 §5.1); the efficiency is derived from the shape and the time in the
work the planner times (causal keys, backward 2.5×: src/profile/tables.ts attentionRate), not from
these FLOPs. bf16 on GPUs (flash or cuDNN kernels), fp32 on CPU (the math path).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .common import Progress, emit, spread, time_call

# (batch, heads, seq, head dim)
SHAPES = {
    ("cuda", False): [(4, 32, 2048, 128), (1, 64, 4096, 128)],
    ("cuda", True): [(4, 32, 2048, 128)],
    ("cpu", False): [(2, 4, 256, 32), (1, 8, 512, 64)],
    ("cpu", True): [(2, 4, 256, 32)],
}


def run(device: torch.device, quick: bool, progress: bool = True) -> None:
    shapes = SHAPES[(device.type, quick)]
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    bar = Progress("attention", len(shapes), progress)
    for b, a, s, d in shapes:
        q, k, v = (torch.randn(b, a, s, d, device=device, dtype=dtype, requires_grad=True) for _ in range(3))
        grad = torch.randn(b, a, s, d, device=device, dtype=dtype)

        def step():
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            out.backward(grad)
            q.grad = k.grad = v.grad = None

        label = f"b{b} a{a} s{s} d{d}"
        try:
            repeats: list[float] = []
            seconds = time_call(step, device, 0.02 if device.type == "cuda" else 0.05, repeats=2 if quick else 3, samples=repeats)
            flops = 3 * 4 * b * s * s * (a * d)
            emit("attention", batch=b, heads=a, seq=s, headDim=d, flops=flops, seconds=seconds, flopsPerSecond=flops / seconds,
                 repeats=repeats, spread=spread(repeats))
        except RuntimeError as e:
            emit("skipped", phase="attention", label=label, reason=str(e).split("\n")[0][:200])
        bar.step(label)
