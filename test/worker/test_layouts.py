"""Every parallel layout trains the same function: the first 5 losses (and gradient norms) of
the tiny GPT match a single-process run within 1e-4 relative.

Global batch 8 and microBatch 8/(2·dp), so every layout, the reference included, runs m = 2
micro-batches per dp rank and gradient accumulation (or the pipeline schedule) is exercised. The gradient norm catches what
the loss alone cannot: AdamW is invariant to a constant gradient scale (e.g. a sum instead of a
mean over dp or micro-batches), the norm is not. Some layouts also turn recomputation on; it must
not change the numbers either (test_flops checks it changed the FLOPs).
"""
from __future__ import annotations

import pytest

from conftest import LLAMA, make_spec, ok

REL = 1e-4

# name -> plan overrides (model: tiny, GPT-3 style: learned positions, LayerNorm, GELU, tied)
GPT_LAYOUTS = {
    "dp2-zero0": {"dp": 2, "zero": 0},
    "dp2-zero1": {"dp": 2, "zero": 1},
    "dp2-zero2-full": {"dp": 2, "zero": 2, "recompute": "full"},
    "dp2-zero3": {"dp": 2, "zero": 3},
    "tp2-selective": {"tp": 2, "recompute": "selective"},
    "tp2-sp": {"tp": 2, "sequenceParallel": True},
    "pp2-1f1b": {"pp": 2, "schedule": "1f1b"},
    # full recompute of each 2-layer stage's first layer only (Megatron-Core's block method)
    "pp2-1f1b-block1": {"pp": 2, "schedule": "1f1b", "recompute": "full", "recomputeLayers": 1},
    "pp2-interleaved": {"pp": 2, "vpp": 2, "schedule": "interleaved"},
    "dp2-tp2-zero1": {"dp": 2, "tp": 2, "zero": 1},  # ZeRO-1 over DTensor shards, no DDP
    "dp2-tp2-pp2-zero3-sp": {"dp": 2, "tp": 2, "pp": 2, "zero": 3, "sequenceParallel": True},
}

# Llama style: RoPE, RMSNorm, SwiGLU, GQA (kvHeads 2 < heads 4), untied
LLAMA_LAYOUTS = {
    "llama-tp2-sp": {"tp": 2, "sequenceParallel": True},
    "llama-dp2-zero3": {"dp": 2, "zero": 3},
}


def reference(runs, llama: bool = False):
    if llama:
        return ok(runs("llama-ref", make_spec(model=LLAMA)))
    return ok(runs("ref", make_spec()))


def assert_close(got: list[float], want: list[float], what: str) -> None:
    assert len(got) == len(want) == 5, (what, got, want)
    for step, (g, w) in enumerate(zip(got, want), start=1):
        assert abs(g - w) <= REL * abs(w), f"{what} at step {step}: {g} vs {w} (reference)"


def check_layout(runs, name: str, plan: dict, llama: bool) -> None:
    ref = reference(runs, llama)
    run = ok(runs(name, make_spec(plan=plan, model=LLAMA if llama else None)))
    assert_close(run.losses, ref.losses, f"{name} loss")
    assert_close([e["gradNorm"] for e in run.of("step")],
                 [e["gradNorm"] for e in ref.of("step")], f"{name} gradient norm")
    assert run.summary["loss"] == run.losses


def test_reference_learns_something(runs):
    ref = reference(runs)
    losses = ref.losses
    assert len(losses) == 5 and all(5.0 < x < 6.0 for x in losses)  # ≈ ln 256 = 5.55
    start = ref.of("start")[0]
    assert start["world"] == 1 and start["mesh"] == {"pp": 1, "dp": 1, "cp": 1, "tp": 1}


@pytest.mark.parametrize("name", list(GPT_LAYOUTS))
def test_gpt_layout_matches_single_process(runs, name):
    check_layout(runs, name, GPT_LAYOUTS[name], llama=False)


@pytest.mark.parametrize("name", list(LLAMA_LAYOUTS))
def test_llama_layout_matches_single_process(runs, name):
    check_layout(runs, name, LLAMA_LAYOUTS[name], llama=True)


def test_layout_is_what_the_plan_says(runs):
    """The start event names the machinery each plan maps to."""
    expect = {
        "dp2-zero0": ("none", "ddp"),
        "dp2-zero1": ("none", "ddp+ZeroRedundancyOptimizer"),
        "dp2-zero2-full": ("none", "fsdp2(reshard_after_forward=False)"),
        "dp2-zero3": ("none", "fsdp2(reshard_after_forward=True)"),
        "pp2-1f1b": ("Schedule1F1B", "none"),
        "pp2-interleaved": ("ScheduleInterleaved1F1B", "none"),
    }
    for name, (schedule, dp_kind) in expect.items():
        start = ok(runs(name, make_spec(plan=GPT_LAYOUTS[name]))).of("start")[0]
        assert (start["schedule"], start["dataParallel"]) == (schedule, dp_kind), name
        assert start["microBatches"] == 2


# Qwen-style attention extras (Q/K/V biases, per-head query/key RMSNorm): the norms' weights are
# plain parameters beside tensor parallel's DTensor shards, per head, so a shard of heads runs them
# alone; the layouts must train the same function as one process.
QK = {**LLAMA, "qkvBias": True, "qkNorm": "head"}


@pytest.mark.parametrize("name,plan", [("qk-tp2-sp", {"tp": 2, "sequenceParallel": True}), ("qk-dp2-tp2-zero3", {"dp": 2, "tp": 2, "zero": 3})])
def test_qk_extras_layout_matches_single_process(runs, name, plan):
    ref = ok(runs("qk-ref", make_spec(model=QK)))
    run = ok(runs(name, make_spec(plan=plan, model=QK)))
    assert_close(run.losses, ref.losses, f"{name} loss")
    assert_close([e["gradNorm"] for e in run.of("step")], [e["gradNorm"] for e in ref.of("step")], f"{name} gradient norm")
