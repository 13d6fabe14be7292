"""Event stream and summary fields (executor/PROTOCOL.md), and faults."""
from __future__ import annotations

from conftest import make_spec, ok
from test_layouts import GPT_LAYOUTS, reference

PARAMS = 218_496  # tiny, tied: 4 layers · 49,984 + 256·64 embedding + 32·64 positions + 128


def test_events_and_summary_fields(runs):
    run = reference(runs)
    kinds = [e["event"] for e in run.events]
    assert kinds == ["start"] + ["step"] * 5 + ["timeline", "summary"]
    start = run.of("start")[0]
    assert start["torch"] and start["device"] == "cpu" and start["parameters"] == PARAMS
    for i, e in enumerate(run.of("step"), start=1):
        assert e["step"] == i and e["stepTime"] > 0
        assert abs(e["tokensPerSecond"] - 8 * 32 / e["stepTime"]) < 1e-6 * e["tokensPerSecond"]
    m = run.summary
    assert m["timedSteps"] == [3, 4] and m["measuredStep"] == 2  # 5 is traced (test_timeline.py)
    mean = sum(m["stepTimes"][2:4]) / 2
    assert abs(m["stepTime"] - mean) < 1e-9 and abs(m["tokensPerSecond"] - 256 / mean) < 1e-6 * m["tokensPerSecond"]
    assert m["mfu"] is None and m["loss"] == run.losses and len(m["gradNorm"]) == 5
    assert m["peakMemorySource"] == "MemTracker" and m["peakMemoryRank"] == 0
    b = m["peakMemoryBreakdown"]
    assert m["peakMemory"] == b["Total"] > 0
    assert b["Parameter"] == 4 * PARAMS and b["Optstate"] >= 2 * 4 * PARAMS
    assert m["comms"] == {}


def test_ddp_all_reduces_the_gradients_once_per_step(runs):
    m = ok(runs("dp2-zero0", make_spec(plan=GPT_LAYOUTS["dp2-zero0"]))).summary
    # one bucket per rank holding every fp32 gradient, summed over the 2 ranks
    assert m["comms"]["all_reduce"] == {"count": 2, "bytes": 2 * 4 * PARAMS}


def test_every_rank_reports_its_phases_before_the_first_step(runs):
    # (the supervisor names the ranks behind when no step comes: executor/supervise.ts startup)
    run = ok(runs("dp2-zero0", make_spec(plan=GPT_LAYOUTS["dp2-zero0"])))
    for rank in (0, 1):
        assert [e["phase"] for e in run.phases if e["rank"] == rank] == ["started", "joined", "built"]


def test_zero3_shards_memory(runs):
    z0 = ok(runs("dp2-zero0", make_spec(plan=GPT_LAYOUTS["dp2-zero0"]))).summary
    z3 = ok(runs("dp2-zero3", make_spec(plan=GPT_LAYOUTS["dp2-zero3"]))).summary
    assert z3["peakMemoryBreakdown"]["Optstate"] < 0.6 * z0["peakMemoryBreakdown"]["Optstate"]
    assert z3["peakMemory"] < z0["peakMemory"]
    assert set(z3["comms"]) == {"all_gather", "reduce_scatter"}


def test_pipeline_sends_activations_and_gradients(runs):
    m = ok(runs("pp2-1f1b", make_spec(plan=GPT_LAYOUTS["pp2-1f1b"]))).summary
    # m = 2 micro-batches of (4, 32, 64) fp32 activations forward, and their gradients back
    assert m["comms"]["send"] == {"count": 4, "bytes": 4 * 4 * 32 * 64 * 4}
    assert m["comms"]["recv"] == m["comms"]["send"]
    # the tied embedding's gradient summed between the first and the last stage
    assert m["comms"]["all_reduce"] == {"count": 2, "bytes": 2 * 256 * 64 * 4}


def test_fault_on_one_rank_fails_the_run(runs):
    spec = make_spec(plan={"dp": 2}, fault={"rank": 1, "step": 2})
    run = runs("fault", spec)
    assert run.returncode != 0
    first = run.errors[0]
    assert first["rank"] == 1 and first["kind"] == "exception"
    assert "fault injection" in first["message"]
    assert [e["step"] for e in run.of("step")] == [1]  # step 2 never completed
    assert not run.of("summary")
