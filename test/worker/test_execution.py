"""Compiled execution and the reported fast paths, on gloo ranks under torchrun (PROTOCOL.md
`execution`): a compiled run trains the same function as the eager reference, counts the same
FLOPs, and reports its compile time apart from the step time; the FSDP2 mixed-precision policy is
applied when asked (and only then on CPU); the AdamW kernel and attention backend are reported.
"""
from __future__ import annotations

import os
import shutil

import pytest

from conftest import make_spec, ok
from test_layouts import GPT_LAYOUTS, reference


def cxx() -> str | None:
    """The C++ compiler inductor's CPU backend would use (CXX, else g++ / c++ / clang++)."""
    for name in (os.environ.get("CXX"), "g++", "c++", "clang++"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.skipif(cxx() is None, reason="no C++ compiler (CXX, g++, c++, clang++): inductor's "
                    "CPU backend cannot build the compiled blocks here")
def test_compiled_run_matches_eager_and_reports_compile_time(runs):
    ref = reference(runs)
    run = ok(runs("compiled", make_spec() | {"execution": {"compile": True}}))
    assert len(run.losses) == 5
    for got, want in zip(run.losses, ref.losses):
        assert abs(got - want) <= 1e-4 * abs(want), (run.losses, ref.losses)
    start = run.of("start")[0]["execution"]
    assert start["mode"] == "compiled" and start["compiledBlocks"] == 4
    s = run.summary
    assert s["flopsPerStep"] == ref.summary["flopsPerStep"]  # instrumented step runs eager
    e = s["execution"]
    assert e["mode"] == "compiled" and e["compileRequested"] is True
    # compilation lands in the warm-up step, which the step time leaves out
    assert 1 not in s["timedSteps"]
    assert s["compileTime"] == e["compileTime"] > 0
    assert s["stepTimes"][0] > s["stepTime"] + 0.5 * s["compileTime"]


@pytest.mark.skipif(cxx() is None, reason="no C++ compiler (CXX, g++, c++, clang++): inductor's "
                    "CPU backend cannot build the compiled blocks here")
def test_compiled_full_recompute_beside_tensor_parallel_runs_and_matches(runs):
    # Compiling the checkpointed block raised at step 1 (torch 2.13 AOTAutograd save_from_forward:
    # "expected all tensors_saved_with_vc_check to be Tensors", a DeviceMesh among them) for
    # `execute --tp 2 --recompute full --compile`; the worker checkpoints the compiled block
    # instead. Same function as one process (within 1e-4), and full recompute's FLOPs: model
    # FLOPs plus one more forward of the layers, as the eager dp2-zero2-full layout counts them.
    ref = reference(runs)
    plan = {"tp": 2, "recompute": "full", "sequenceParallel": True}
    run = ok(runs("tp2-full-compiled", make_spec(plan=plan) | {"execution": {"compile": True}}))
    assert len(run.losses) == 5
    for got, want in zip(run.losses, ref.losses):
        assert abs(got - want) <= 1e-4 * abs(want), (run.losses, ref.losses)
    e = run.summary["execution"]
    assert e["mode"] == "compiled" and e["compiledBlocks"] == 4
    full = ok(runs("dp2-zero2-full", make_spec(plan=GPT_LAYOUTS["dp2-zero2-full"])))
    assert run.summary["flopsPerStep"] == full.summary["flopsPerStep"] > ref.summary["flopsPerStep"]


def test_eager_reference_reports_its_fast_paths(runs):
    s = reference(runs).summary
    e = s["execution"]
    assert e["mode"] == "eager" and e["compileRequested"] is False and s["compileTime"] == 0
    assert e["optimizer"] == "foreach"
    assert e["sdpaBackends"] == ["flash-cpu"] and e["sdpaSource"] == "measured step"
    assert e["fsdpMixedPrecision"] is None


def test_tensor_parallel_steps_adamw_in_a_loop(runs):
    run = ok(runs("tp2-selective", make_spec(plan=GPT_LAYOUTS["tp2-selective"])))
    assert run.summary["execution"]["optimizer"] == "forloop"  # DTensor and plain parameters mix


def test_fsdp2_mixed_precision_when_asked(runs):
    ref = reference(runs)
    plain = ok(runs("dp2-zero3", make_spec(plan=GPT_LAYOUTS["dp2-zero3"])))
    assert "+mp" not in plain.of("start")[0]["dataParallel"]  # CPU default: fp32 throughout
    mp = ok(runs("dp2-zero3-mp", make_spec(plan=GPT_LAYOUTS["dp2-zero3"])
                 | {"execution": {"fsdpMixedPrecision": True}}))
    start = mp.of("start")[0]
    assert start["dataParallel"] == "fsdp2(reshard_after_forward=True)+mp(param bf16, reduce fp32)"
    assert mp.summary["execution"]["fsdpMixedPrecision"] == "param bf16, reduce fp32"
    # bf16 parameters change the numbers a little, and only a little
    assert mp.losses != ref.losses
    for got, want in zip(mp.losses, ref.losses):
        assert abs(got - want) <= 1e-2 * abs(want)
