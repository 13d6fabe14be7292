"""Zero-bubble pipeline schedules and uneven stages train the same function: the first 5 losses
and gradient norms match a single process within 1e-4 relative (as test_layouts.py), on CPU gloo
ranks with torch.distributed.pipelining's ScheduleInterleavedZeroBubble, ScheduleZBVZeroBubble
and ScheduleDualPipeV. The tiny GPT ties its embedding and output head: in a V both sit on
pipeline rank 0, whose gradients the worker sums locally."""
from __future__ import annotations

import pytest

from conftest import LLAMA, make_spec, ok
from test_layouts import assert_close, reference

LAYOUTS = {
    # name -> (plan overrides, Llama-style model?)
    "pp2-zb1p": ({"pp": 2, "schedule": "zb1p"}, False),
    "pp2-vpp2-zb1p": ({"pp": 2, "vpp": 2, "schedule": "zb1p"}, False),
    "pp2-zbv": ({"pp": 2, "vpp": 2, "schedule": "zbv"}, False),
    # DualPipeV needs m >= 2·pp = 4 micro-batches: micro-batch 2 of the global 8.
    "pp2-dualpipev": ({"pp": 2, "vpp": 2, "schedule": "dualpipev", "microBatch": 2}, False),
    "llama-pp2-zbv": ({"pp": 2, "vpp": 2, "schedule": "zbv"}, True),
    # Uneven stages: 1 layer (with the embedding) on stage 0, 3 (with the head and loss) on 1.
    "pp2-stage-layers-1-3": ({"pp": 2, "schedule": "1f1b", "stageLayers": [1, 3]}, False),
    "llama-pp2-stage-layers-3-1": ({"pp": 2, "schedule": "zb1p", "stageLayers": [3, 1]}, True),
}


@pytest.mark.parametrize("name", list(LAYOUTS))
def test_schedule_matches_single_process(runs, name):
    plan, llama = LAYOUTS[name]
    ref = reference(runs, llama)
    run = ok(runs(name, make_spec(plan=plan, model=LLAMA if llama else None)))
    assert_close(run.losses, ref.losses, f"{name} loss")
    assert_close([e["gradNorm"] for e in run.of("step")],
                 [e["gradNorm"] for e in ref.of("step")], f"{name} gradient norm")


def test_zero_bubble_runs_the_torch_class_and_says_why_eager(runs):
    run = ok(runs("pp2-zbv", make_spec(plan=LAYOUTS["pp2-zbv"][0])))
    assert run.of("start")[0]["schedule"] == "ScheduleZBVZeroBubble"
    notes = run.summary["notes"]
    assert any("eager" in n and "torch.compile" in n for n in notes), notes
    plain = ok(runs("pp2-1f1b-notes", make_spec(plan={"pp": 2, "schedule": "1f1b"})))
    assert plain.summary["notes"] == []


@pytest.mark.parametrize("plan, message", [
    ({"pp": 2, "vpp": 1, "schedule": "zbv"}, "exactly two stages per rank"),
    ({"pp": 2, "vpp": 2, "schedule": "dualpipev"}, "at least 2·pp = 4 micro-batches"),
    ({"pp": 2, "stageLayers": [1, 2]}, "sum to the 4 layers"),
    ({"pp": 2, "stageLayers": [4]}, "one entry per pipeline stage"),
    # SAC raises in the split backward; full recompute re-runs each forward three times
    ({"pp": 2, "vpp": 2, "schedule": "zbv", "recompute": "selective"}, "activation checkpointing"),
    ({"pp": 2, "vpp": 1, "schedule": "zb1p", "recompute": "full"}, "activation checkpointing"),
])
def test_spec_refuses_what_torch_would(plan, message):
    from executor.worker.spec import parse_spec  # parse_spec validates

    with pytest.raises(ValueError, match=message):
        parse_spec(make_spec(plan=plan))
