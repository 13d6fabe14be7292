"""The measured FLOPs per step equal the closed form (Narayanan et al. 2021, Eq. 3 terms):

  model FLOPs = 3 · (L · (24·T·h² + 4·B·s²·h) + 2·T·h·V_pad)        T = B·s tokens

(24·T·h²: QKV, projection and the 4h GELU MLP, 2 FLOPs per multiply-accumulate; 4·B·s²·h:
Q·Kᵀ and P·V over the full s×s square; 2·T·h·V: the logits; backward = 2 × forward), plus one
forward of the layers for full recompute, or of the attention cores for selective recompute.
Written here independently of the worker, which counts with FlopCounterMode on every rank.
"""
from __future__ import annotations

import pytest

from conftest import make_spec, ok
from test_layouts import GPT_LAYOUTS, reference

L, H, S, B, V = 4, 64, 32, 8, 256  # tiny: layers, hidden, seqLen; global batch; vocabPadded
T = B * S


def closed_form(recompute: str = "none") -> int:
    layer = 24 * T * H**2 + 4 * B * S**2 * H
    total = 3 * (L * layer + 2 * T * H * V)
    if recompute == "full":
        total += L * layer
    elif recompute == "selective":
        total += L * 4 * B * S**2 * H
    return total


def assert_within(measured: int, expected: int, rel: float = 0.05) -> None:
    assert abs(measured - expected) <= rel * expected, (measured, expected)


def test_single_process_flops(runs):
    assert_within(reference(runs).summary["flopsPerStep"], closed_form())


@pytest.mark.parametrize("name", ["tp2-sp", "pp2-interleaved", "dp2-tp2-pp2-zero3-sp",
                                  "dp2-zero2-full", "tp2-selective"])
def test_flops_summed_over_ranks(runs, name):
    plan = GPT_LAYOUTS[name]
    run = ok(runs(name, make_spec(plan=plan)))
    assert_within(run.summary["flopsPerStep"], closed_form(plan.get("recompute", "none")))
