"""Mixtures of experts with expert parallelism (executor/worker/moe.py): every layout trains the
same function as one process — the first 5 losses and gradient norms within 1e-4 relative
(issue 13: tiny-moe with dp 2 / ep 2, dp 4 / ep 2 and pp 2 / dp 2 / ep 2).

The model is tiny with its MLPs replaced by 4 experts (top-2, softmax router) and one shared
expert, the first layer dense; the router is deterministic and nothing is dropped, so the
expert-parallel all-to-alls only move work between ranks.
"""
from __future__ import annotations

import pytest

from conftest import make_spec, ok
from test_layouts import assert_close

MOE = {"experts": 4, "topK": 2, "sharedExperts": 1, "expertFfnHidden": 64, "denseLayers": 1,
       "layerFreq": 1, "router": "softmax"}
MODEL = {"moe": MOE}

LAYOUTS = {
    "moe-dp2": {"dp": 2},
    "moe-dp2-ep2": {"dp": 2, "ep": 2},
    "moe-dp4-ep2": {"dp": 4, "ep": 2},
    # stages with static shapes (pipeline.make_stage): no shape inference to hang the all-to-all
    "moe-pp2-dp2-ep2": {"pp": 2, "dp": 2, "ep": 2},
}


def reference(runs):
    return ok(runs("moe-ref", make_spec(model=MODEL)))


def test_moe_reference_learns_and_routes(runs):
    ref = reference(runs)
    assert len(ref.losses) == 5 and all(5.0 < x < 6.0 for x in ref.losses)  # ≈ ln 256
    assert ref.losses[-1] < ref.losses[0]


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_moe_layout_matches_single_process(runs, name):
    ref = reference(runs)
    run = ok(runs(name, make_spec(plan=LAYOUTS[name], model=MODEL)))
    assert_close(run.losses, ref.losses, f"{name} loss")
    assert_close([e["gradNorm"] for e in run.of("step")],
                 [e["gradNorm"] for e in ref.of("step")], f"{name} gradient norm")


def test_moe_flops_count_the_active_experts(runs):
    """Measured FLOPs of one step = the hand count of the tiny MoE (no recompute): 6·(matmul
    FLOPs of a forward) over the global batch, where a token passes through the router, its
    top-2 experts and the shared expert on MoE layers (Kaplan et al. 2020's 2·N per token per
    matmul parameter, ×3 for backward) plus attention's 2·2·s²·h per sequence forward."""
    ref = reference(runs)
    B, s, h, f, V, L = 8, 32, 64, 64, 256, 4
    tokens = B * s
    attn_proj = 4 * h * h  # wq, wk, wv, wo (kv heads = heads)
    dense_mlp = 2 * h * (4 * h)  # GELU MLP h → 4h → h
    moe_mlp = h * 4 + 2 * (2 * h * f) + 2 * h * f  # router, 2 experts, 1 shared expert (GELU)
    per_token = L * attn_proj + 1 * dense_mlp + (L - 1) * moe_mlp + h * V  # + output head
    forward = 2 * tokens * per_token + L * B * 2 * 2 * s * s * h  # + attention scores and PV
    assert ref.summary["flopsPerStep"] == pytest.approx(3 * forward, rel=1e-9)


def test_moe_refusals(runs):
    """What the worker does not run is refused before any process group forms."""
    from executor.worker.spec import parse_spec
    for plan, message in [({"dp": 2, "ep": 2, "zero": 1}, "ZeRO 0"), ({"tp": 2}, "tp = 1"),
                          ({"dp": 2, "ep": 4}, "divide"), ({"dp": 2, "etp": 2}, "etp")]:
        with pytest.raises(ValueError, match=message):
            parse_spec(make_spec(plan=plan, model=MODEL))
    with pytest.raises(ValueError, match="mixture-of-experts"):
        parse_spec(make_spec(plan={"dp": 2, "ep": 2}))
