"""Compiled execution: torch.compile per transformer block, as torchtitan does (apply_compile:
each block compiled on its own, fullgraph, after tensor parallel and activation checkpointing and
before FSDP). Identical blocks share one compiled graph (parameters are graph inputs), so compile
time grows with the kinds of blocks, not their count.

On by default on CUDA, off on CPU unless the launch spec asks (`execution.compile`). Where a run
cannot be compiled the worker runs eager and says why (`execution.eagerReason`).

Compile time: torch.compile compiles lazily, during the first forward and backward of step 1
(and again for any recompilation), so it lands in the warm-up step, which stepTime already
excludes. The worker reports it separately: `compileTime` = the warm-up step's time beyond the
mean timed step (what compilation cost the run in wall time), and `dynamoCompileTime` = the
time TorchDynamo itself recorded compiling frames (torch._dynamo.utils.compilation_time_metrics,
"_compile.compile_inner", when this torch has it; a backward that AOTAutograd compiles lazily at
the first backward is outside it).
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import Optional

import torch
import torch.nn as nn

# Pipeline schedules whose stages torch cannot compile: the zero-bubble schedules split the
# backward into input- and weight-gradient passes (stage_backward_input/_weight), which call
# autograd on the stage's graph piecewise; compiled (AOTAutograd) regions have one opaque backward.
EAGER_SCHEDULES = ("zero", "zb", "dualpipe")


def eager_reason(spec) -> Optional[str]:
    """Why this run cannot be compiled, or None."""
    if not hasattr(torch, "compile"):  # pragma: no cover - torch < 2.0
        return f"torch {torch.__version__} has no torch.compile"
    schedule = spec.plan.schedule.lower()
    if spec.plan.pp > 1 and any(k in schedule for k in EAGER_SCHEDULES):
        return f"schedule {spec.plan.schedule}: torch cannot compile zero-bubble stages (split backward)"
    if getattr(spec.plan, "cp", 1) > 1:
        # context.py: the K/V all-gather is torch.distributed.nn.functional.all_gather, an
        # autograd.Function around an in-place c10d collective that a fullgraph block cannot
        # trace (and torch's ring path monkey-patches SDPA for the step)
        return "context parallel attention gathers K/V with an autograd collective; cp blocks run eager"
    if getattr(getattr(spec, "model", None), "moe", None) is not None:
        # moe.py routes with data-dependent shapes (nonzero, bincount, split sizes of the
        # all-to-all): a whole-block graph cannot hold them.
        return "mixture-of-experts blocks route tokens with data-dependent shapes; they run eager"
    return None


def can_force_eager() -> bool:
    """torch >= 2.6 can run compiled modules eagerly on demand (torch.compiler.set_stance)."""
    return hasattr(torch, "compiler") and hasattr(torch.compiler, "set_stance")


def eager_context():
    """Runs compiled modules eagerly inside it: the instrumented and traced steps, whose
    dispatch modes (FLOP, collective and memory counters) torch.compile does not support
    ("non-infra torch dispatch mode present"). On torch 2.5 the blocks are compiled without
    fullgraph, so Dynamo skips their frames under those modes by itself."""
    if can_force_eager():
        return torch.compiler.set_stance("force_eager")
    return nullcontext()


def compile_blocks(model: nn.Module, fullgraph: Optional[bool] = None) -> int:
    """Replace each block of model.layers by its compiled module; returns how many."""
    if fullgraph is None:
        fullgraph = can_force_eager()
    n = 0
    for name, block in list(model.layers.named_children()):
        model.layers.register_module(name, torch.compile(block, fullgraph=fullgraph))
        n += 1
    return n


def dynamo_compile_seconds() -> Optional[float]:
    """Seconds TorchDynamo spent compiling frames so far (its own metric), or None."""
    try:
        from torch._dynamo.utils import compilation_time_metrics
    except ImportError:  # pragma: no cover
        return None
    times = compilation_time_metrics.get("_compile.compile_inner")
    return float(sum(times)) if times else None


def warmup_excess(step_times: list[float], warmup: list[int], mean_step: Optional[float]) -> Optional[float]:
    """Seconds the warm-up steps took beyond the timed mean: what compilation (and the other
    one-time work of those steps) added to the run."""
    if mean_step is None or not warmup:
        return None
    return max(0.0, sum(step_times[k - 1] - mean_step for k in warmup))
