"""Full recompute of each chunk's first N blocks only (the plan's recomputeLayers, Megatron-Core's
--recompute-method block; executor/worker/parallel.py apply_ac): the same loss and gradients as no
recompute, the first N blocks' forwards run again in backward and the others' not, counted op by
op on CPU; and the launch spec's field read and checked (executor/worker/spec.py)."""
from __future__ import annotations

import copy

import pytest
import torch

from conftest import make_spec
from executor.worker.parallel import apply_ac
from executor.worker.spec import parse_spec, validate
from test_fastpaths import OpCounter, loss_and_grads, tiny

aten = torch.ops.aten


def wrapped(gpt) -> list[bool]:
    return [hasattr(b, "_checkpoint_wrapped_module") for b in gpt.layers.values()]


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_first_depth_blocks_recompute_their_forward(depth):
    base, x, y = tiny()
    layers = len(base.layers)  # 4: the tiny model
    block = copy.deepcopy(base)
    assert apply_ac(block, "full", depth) == f"full(first {depth} of {layers})"
    assert wrapped(block) == [i < depth for i in range(layers)]
    c0, c1 = OpCounter(aten.gelu), OpCounter(aten.gelu)
    l0, g0 = loss_and_grads(base, x, y, c0)
    l1, g1 = loss_and_grads(block, x, y, c1)
    assert abs(float(l0) - float(l1)) <= 1e-5 * abs(float(l0))
    for name in g0:
        assert torch.allclose(g0[name], g1[name], rtol=1e-5, atol=1e-7), name
    # one GELU a block's forward: the first `depth` blocks run theirs again in backward
    assert c1.counts[aten.gelu] == c0.counts[aten.gelu] + depth


def test_a_depth_reaching_the_chunk_is_full_recompute_of_every_block():
    gpt, _, _ = tiny()
    assert apply_ac(gpt, "full", 4) == "full"
    assert all(wrapped(gpt))
    gpt, _, _ = tiny()
    assert apply_ac(gpt, "full") == "full"
    assert all(wrapped(gpt))


def test_the_spec_reads_recompute_layers_beside_full_recompute_only():
    plan = {"recompute": "full", "recomputeLayers": 2}
    assert parse_spec(make_spec(plan=plan)).plan.recompute_layers == 2
    assert parse_spec(make_spec()).plan.recompute_layers is None
    with pytest.raises(ValueError, match="recomputeLayers 2 with selective recompute"):
        validate(parse_spec(make_spec(plan={"recompute": "selective", "recomputeLayers": 2})))
    with pytest.raises(ValueError):
        parse_spec(make_spec(plan={"recompute": "full", "recomputeLayers": 0}))
