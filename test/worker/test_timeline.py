"""The measured timeline of the traced step (executor/worker/trace.py, PROTOCOL.md `timeline`).

Expectations are the schedules' own definitions, not recorded output: 1F1B runs min(p − s, m)
warm-up forwards on stage s then alternates (torch Schedule1F1B; the same pass order as
Megatron-LM's, Narayanan et al. 2021 Fig. 4), GPipe runs every forward then every backward
(torch ScheduleGPipe, micro-batches in order); a stage cannot start a micro-batch's forward
before the previous stage has finished it, nor its backward before the next stage has.
"""
from __future__ import annotations

import pytest

from conftest import make_spec, ok
from test_layouts import GPT_LAYOUTS

SLACK = 2e-3  # seconds: the barrier aligning the ranks' clocks, and the profiler's own ranges


def timeline(run) -> dict:
    found = ok(run).of("timeline")
    assert len(found) == 1, "one traced step"
    return found[0]


def passes(stage: dict) -> list[str]:
    spans = [e for e in stage["events"] if e["stream"] == "compute" and e["category"] != "optimizer"]
    return [f'{"F" if e["category"] == "forward" else "B"}{e["mb"]}' for e in sorted(spans, key=lambda e: e["start"])]


def span(stage: dict, category: str, mb: int) -> dict:
    return next(e for e in stage["events"] if e["stream"] == "compute" and e["category"] == category and e["mb"] == mb)


def pp2_m4(schedule: str) -> dict:
    return make_spec(plan={"pp": 2, "microBatch": 2, "schedule": schedule})  # m = 8 / 2 = 4


def test_1f1b_order_per_stage(runs):
    t = timeline(runs("pp2-m4-1f1b", pp2_m4("1f1b")))
    assert t["step"] == 5 and t["pp"] == 2 and t["microBatches"] == 4
    s0, s1 = t["stages"]
    assert (s0["stage"], s1["stage"]) == (0, 1) and (s0["rank"], s1["rank"]) == (0, 1)
    assert passes(s0) == ["F0", "F1", "B0", "F2", "B1", "F3", "B2", "B3"]
    assert passes(s1) == ["F0", "B0", "F1", "B1", "F2", "B2", "F3", "B3"]


def test_gpipe_order_per_stage(runs):
    t = timeline(runs("pp2-m4-gpipe", pp2_m4("gpipe")))
    for s in t["stages"]:
        assert passes(s) == ["F0", "F1", "F2", "F3", "B0", "B1", "B2", "B3"]


@pytest.mark.parametrize("schedule", ["1f1b", "gpipe"])
def test_stages_wait_for_each_other(runs, schedule):
    """Cross-rank times line up: dependencies between stages are respected in the trace."""
    s0, s1 = timeline(runs(f"pp2-m4-{schedule}", pp2_m4(schedule)))["stages"]
    for mb in range(4):
        f0, f1 = span(s0, "forward", mb), span(s1, "forward", mb)
        assert f1["start"] >= f0["start"] + f0["duration"] - SLACK
        b0, b1 = span(s0, "backward", mb), span(s1, "backward", mb)
        assert b0["start"] >= b1["start"] + b1["duration"] - SLACK


def test_spans_do_not_overlap_and_end_with_the_optimizer(runs):
    for name in ("pp2-1f1b", "dp2-zero0"):
        t = timeline(runs(name, make_spec(plan=GPT_LAYOUTS[name])))
        for s in t["stages"]:
            compute = sorted((e for e in s["events"] if e["stream"] == "compute"), key=lambda e: e["start"])
            assert compute[-1]["category"] == "optimizer"
            for a, b in zip(compute, compute[1:]):
                assert b["start"] >= a["start"] + a["duration"] - 1e-6
            assert compute[0]["start"] >= -SLACK


def test_interleaved_holds_every_chunk(runs):
    t = timeline(runs("pp2-interleaved", make_spec(plan=GPT_LAYOUTS["pp2-interleaved"])))
    assert t["vpp"] == 2
    for s in t["stages"]:
        spans = [e for e in s["events"] if e["stream"] == "compute" and e["category"] != "optimizer"]
        assert len(spans) == 2 * 2 * t["microBatches"]  # forward and backward, 2 chunks, m
        assert {e["vstage"] for e in spans} == {s["stage"], s["stage"] + 2}


def test_collectives_are_put_on_their_stream(runs):
    ddp = timeline(runs("dp2-zero0", make_spec(plan=GPT_LAYOUTS["dp2-zero0"])))
    assert [s["stage"] for s in ddp["stages"]] == [0]  # one representative rank per stage
    assert {(e["stream"], e["category"]) for e in ddp["stages"][0]["events"] if e["stream"] != "compute"} == {("dp comm", "all_reduce")}
    name = "dp2-tp2-pp2-zero3-sp"
    t = timeline(runs(name, make_spec(plan=GPT_LAYOUTS[name])))
    assert [(s["stage"], s["rank"]) for s in t["stages"]] == [(0, 0), (1, 4)]  # rank = (pp·dp + dp)·tp + tp
    for s in t["stages"]:
        streams = {e["stream"] for e in s["events"]}
        assert {"tp comm", "pp comm", "dp comm"} <= streams
        pp = {e["category"] for e in s["events"] if e["stream"] == "pp comm"}
        assert pp == {"p2p"}


def test_short_runs_are_not_traced(runs):
    run = ok(runs("ref-3-steps", make_spec(training={"steps": 3})))
    assert run.of("timeline") == [] and run.summary["timedSteps"] == [3]
