"""The worker's fast paths, in one process on CPU (executor/worker/fastpaths.py, fp8.py,
compile.py): per-op selective checkpointing computes the same loss and gradients as no recompute
and really recomputes (element-wise ops twice, matmuls once); the foreach and fused AdamW kernels
step like the plain loop; the attention backend is recorded as dispatched, not assumed; the fp8
path names torchao when it is missing; zero-bubble schedules run eager.
"""
from __future__ import annotations

import copy
import sys
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

from conftest import LLAMA, make_spec
from executor.worker import compile as compiling
from executor.worker import fp8
from executor.worker.fastpaths import (SdpaRecorder, adamw_implementation, adamw_kwargs,
                                       probe_sdpa, sac_available)
from executor.worker.model import GPT, cross_entropy, init_weights
from executor.worker.optim import BETAS, WEIGHT_DECAY
from executor.worker.parallel import apply_ac
from executor.worker.spec import parse_spec

aten = torch.ops.aten


def tiny(model: dict | None = None) -> tuple[GPT, torch.Tensor, torch.Tensor]:
    spec = parse_spec(make_spec(model=model))
    torch.manual_seed(0)
    gpt = GPT(spec.model, spec.training.vocab_padded, spec.training.seq_len)
    init_weights(gpt, 1234)
    g = torch.Generator().manual_seed(7)
    x = torch.randint(0, spec.model.vocab, (2, spec.training.seq_len), generator=g)
    return gpt, x, torch.roll(x, -1, 1)


class OpCounter(TorchDispatchMode):
    def __init__(self, *packets):
        super().__init__()
        self.packets = packets
        self.counts = {p: 0 for p in packets}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func.overloadpacket in self.counts:
            self.counts[func.overloadpacket] += 1
        return func(*args, **(kwargs or {}))


def loss_and_grads(gpt: GPT, x, y, counter=None):
    gpt.zero_grad(set_to_none=True)
    if counter is not None:
        with counter:
            loss = cross_entropy(gpt(x), y)
            loss.backward()
    else:
        loss = cross_entropy(gpt(x), y)
        loss.backward()
    grads = {n.replace("._checkpoint_wrapped_module", ""): p.grad.clone()
             for n, p in gpt.named_parameters()}
    return loss.detach(), grads


@pytest.mark.skipif(not sac_available(), reason="this torch has no create_selective_checkpoint_contexts")
@pytest.mark.parametrize("model", [None, LLAMA], ids=["gpt", "llama"])
def test_per_op_sac_matches_no_recompute_and_recomputes_elementwise(model):
    base, x, y = tiny(model)
    sac = copy.deepcopy(base)
    assert apply_ac(sac, "selective") == "selective(per-op)"
    act = aten.gelu if model is None else aten.silu
    sdpa = aten._scaled_dot_product_flash_attention_for_cpu
    c0, c1 = OpCounter(act, aten.mm, aten.addmm, sdpa), OpCounter(act, aten.mm, aten.addmm, sdpa)
    l0, g0 = loss_and_grads(base, x, y, c0)
    l1, g1 = loss_and_grads(sac, x, y, c1)
    assert abs(float(l0) - float(l1)) <= 1e-5 * abs(float(l0))
    assert g0.keys() == g1.keys()
    for name in g0:
        assert torch.allclose(g0[name], g1[name], rtol=1e-5, atol=1e-7), name
    layers = parse_spec(make_spec()).model.layers
    # element-wise activation and the attention core run again in backward; matmuls do not
    assert c1.counts[act] == c0.counts[act] + layers
    assert c1.counts[sdpa] == c0.counts[sdpa] + layers
    assert c1.counts[aten.mm] + c1.counts[aten.addmm] == c0.counts[aten.mm] + c0.counts[aten.addmm]


@pytest.mark.parametrize("implementation", ["foreach", "fused"])
def test_adamw_kernels_step_like_the_loop(implementation):
    g = torch.Generator().manual_seed(3)
    shapes = [(64, 64), (256,), (7, 5, 3)]
    start = [torch.randn(s, generator=g) for s in shapes]
    grads = [[torch.randn(s, generator=g) for s in shapes] for _ in range(4)]
    out = {}
    for impl in ("forloop", implementation):
        params = [torch.nn.Parameter(t.clone()) for t in start]
        opt = torch.optim.AdamW(params, lr=1e-2, betas=BETAS, weight_decay=WEIGHT_DECAY,
                                **adamw_kwargs(impl))
        for step in grads:
            for p, gr in zip(params, step):
                p.grad = gr.clone()
            opt.step()
        out[impl] = params
    for p, q, s0 in zip(out["forloop"], out[implementation], start):
        assert not torch.equal(p, s0)  # the optimizer moved them
        assert torch.allclose(p, q, rtol=1e-6, atol=1e-7)


def test_adamw_choice_by_device():
    params = [torch.nn.Parameter(torch.zeros(2))]
    assert adamw_implementation("auto", "cuda", params) == "fused"
    assert adamw_implementation("auto", "cpu", params) == "foreach"
    assert adamw_implementation("forloop", "cuda", params) == "forloop"
    assert adamw_kwargs("fused") == {"fused": True}


def test_sdpa_backend_is_recorded_as_dispatched():
    from torch.nn.attention import SDPBackend, sdpa_kernel
    q = torch.randn(1, 2, 16, 8)
    rec = SdpaRecorder()
    with rec:  # CPU float32 causal attention runs the CPU flash kernel
        F.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert rec.seen == ["flash-cpu"]
    assert probe_sdpa((1, 2, 16, 8), torch.float32, torch.device("cpu")) == "flash-cpu"
    # forced to math: no fused kernel is dispatched, and the probe says math, not flash
    rec = SdpaRecorder()
    with sdpa_kernel([SDPBackend.MATH]):
        with rec:
            F.scaled_dot_product_attention(q, q, q, is_causal=True)
        assert probe_sdpa((1, 2, 16, 8), torch.float32, torch.device("cpu")) == "math"
    assert rec.seen == []


def test_fp8_names_torchao_when_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "torchao", None)  # import torchao → ImportError
    monkeypatch.setitem(sys.modules, "torchao.float8", None)
    why = fp8.fp8_unavailable(torch.device("cuda"), 1)
    assert why is not None and "torchao" in why and "\n" not in why
    assert fp8.fp8_unavailable(torch.device("cpu"), 1) is None  # CPU: fp32, nothing converted


def test_fp8_converts_only_aligned_block_linears():
    assert fp8.convertible(torch.nn.Linear(64, 256), "layers.0.attention.wq")
    assert not fp8.convertible(torch.nn.Linear(64, 250), "layers.0.feed_forward.w1")
    assert not fp8.convertible(torch.nn.Linear(64, 256), "output")


def test_eager_reasons_are_the_compiled_engine_profiles():
    """compile.py runs eager exactly the cases profiles/engines/paraplan-compile.json states
    (eager.when), by which the planner prices those plans with the eager engine (planner/eager.ts)."""
    import json
    from pathlib import Path
    profile = Path(__file__).resolve().parents[2] / "profiles" / "engines" / "paraplan-compile.json"
    when = json.loads(profile.read_text())["eager"]["when"]["value"]

    def run(pp=1, cp=1, schedule="1f1b", moe=None):
        return SimpleNamespace(plan=SimpleNamespace(pp=pp, cp=cp, schedule=schedule), model=SimpleNamespace(moe=moe))

    cases = {
        "zero-bubble": [run(pp=2, schedule=s) for s in ("zb1p", "zbv", "dualpipev")],
        "context-parallel": [run(cp=2)],
        "mixture-of-experts": [run(moe=SimpleNamespace(experts=4, topK=2))],
    }
    assert sorted(when) == sorted(cases)
    for case in when:
        assert all(compiling.eager_reason(r) is not None for r in cases[case]), case
    for compiled in (run(), run(pp=2), run(pp=2, schedule="interleaved"), run(pp=2, schedule="gpipe"), run(schedule="zb1p")):
        assert compiling.eager_reason(compiled) is None


def test_execution_defaults_and_eager_reasons():
    cpu = parse_spec(make_spec())
    assert cpu.execution.compile is False and cpu.execution.optimizer == "auto"
    cuda = parse_spec(make_spec() | {"device": "cuda"})
    assert cuda.execution.compile is True
    asked = parse_spec(make_spec() | {"execution": {"compile": True, "optimizer": "fused"}})
    assert asked.execution.compile is True and asked.execution.optimizer == "fused"
    with pytest.raises(ValueError, match="execution.optimizer"):
        parse_spec(make_spec() | {"execution": {"optimizer": "sgd"}})
    zb = SimpleNamespace(plan=SimpleNamespace(pp=2, schedule="zbv"))
    assert "zero-bubble" in compiling.eager_reason(zb)
    assert compiling.eager_reason(SimpleNamespace(plan=SimpleNamespace(pp=2, schedule="1f1b"))) is None
    assert compiling.warmup_excess([10.0, 1.0, 1.0], [1], 1.0) == 9.0
