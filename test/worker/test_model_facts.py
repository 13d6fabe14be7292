"""The model facts a launch spec carries are the model the worker builds: gated GELU (GeGLU), a head
width that is not hidden/heads, the rotary base, Llama 3.1 rope scaling and the norm epsilon."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from conftest import LLAMA, make_spec
from executor.worker.model import build_meta_model, llama3_scaling, materialize, rope_tables
from executor.worker.spec import parse_spec


def _model(**model):
    spec = parse_spec(make_spec(model=model))
    return spec, materialize(build_meta_model(spec.model, 256, 32), torch.device("cpu"), 1)


def test_geglu_gates_with_gelu_tanh():
    spec, m = _model(**{**LLAMA, "mlp": "geglu"})
    ff = m.layers["0"].feed_forward
    x = torch.randn(2, 5, 64)
    expected = ff.w2(F.gelu(ff.w1(x), approximate="tanh") * ff.w3(x))
    assert torch.allclose(ff(x), expected)
    assert spec.model.ffn_hidden == 256  # Llama's gated width for h = 64
    assert m(torch.randint(0, 256, (2, 32))).shape == (2, 32, 256)


def test_head_dim_independent_of_hidden_over_heads():
    spec, m = _model(**{**LLAMA, "headDim": 32})  # 4 heads · 32 = 128 ≠ 64
    a = m.layers["0"].attention
    assert spec.model.head_dim == 32
    assert a.wq.weight.shape == (4 * 32, 64) and a.wk.weight.shape == (2 * 32, 64) and a.wo.weight.shape == (64, 4 * 32)
    assert m(torch.randint(0, 256, (2, 32))).shape == (2, 32, 256)


def test_rotary_base_scaling_and_eps_are_the_specs():
    scaling = {"type": "llama3", "factor": 8, "lowFreqFactor": 1, "highFreqFactor": 4, "originalMaxPositions": 8192}
    spec, m = _model(**{**LLAMA, "ropeTheta": 500000, "ropeScaling": scaling, "normEps": 1e-6})
    cos, sin = rope_tables(32, 16, theta=500000.0, scaling=scaling)
    assert torch.equal(m.rope_cos, cos) and torch.equal(m.rope_sin, sin)
    assert m.norm.eps == 1e-6
    # Meta's apply_scaling: the highest frequency (wavelength 2π < 8192/4) is kept, the lowest
    # (wavelength > 8192) divided by 8.
    inv = 500000.0 ** (-torch.arange(0, 128, 2, dtype=torch.float32) / 128)
    out = llama3_scaling(inv, scaling)
    assert out[0] == inv[0] and math.isclose(out[-1].item(), inv[-1].item() / 8, rel_tol=1e-6)


def test_sliding_windows_are_refused_by_the_worker():
    with pytest.raises(ValueError, match="sliding-window"):
        parse_spec(make_spec(model={**LLAMA, "slidingWindow": 16}))


def test_alibi_is_refused_by_the_worker_by_name():
    with pytest.raises(ValueError, match="ALiBi"):
        parse_spec(make_spec(model={"positional": "alibi"}))


def test_qkv_bias_biases_q_k_v_alone():
    """Qwen2 (transformers Qwen2Attention): q/k/v_proj with bias, o_proj and the MLP without."""
    spec, m = _model(**{**LLAMA, "qkvBias": True})
    a = m.layers["0"].attention
    assert spec.model.qkv_bias
    assert a.wq.bias.shape == (4 * 16,) and a.wk.bias.shape == (2 * 16,) and a.wv.bias.shape == (2 * 16,)
    assert a.wo.bias is None and m.layers["0"].feed_forward.w1.bias is None
    # initialised to zero, as every bias: the first step is the model without them
    assert torch.count_nonzero(a.wq.bias) == 0
    assert m(torch.randint(0, 256, (2, 32))).shape == (2, 32, 256)


def test_qk_norm_normalises_each_head_before_the_rotation():
    """Qwen3 (transformers Qwen3Attention): q_norm / k_norm, RMSNorm over head_dim, then RoPE."""
    spec, m = _model(**{**LLAMA, "qkNorm": "head", "normEps": 1e-6})
    a = m.layers["0"].attention
    assert a.q_norm.weight.shape == (16,) and a.k_norm.eps == 1e-6
    with torch.no_grad():
        a.q_norm.weight.copy_(torch.linspace(0.5, 2.0, 16))
        a.k_norm.weight.copy_(torch.linspace(2.0, 0.5, 16))
    x = torch.randn(2, 32, 64)
    cos, sin = m.rope_cos, m.rope_sin
    # by hand: project, normalise each head's 16 channels in fp32, rotate, attend causally
    def rms(t, w):
        return (t.float() * torch.rsqrt(t.float().pow(2).mean(-1, keepdim=True) + 1e-6)).type_as(t) * w
    from executor.worker.model import apply_rope
    q = rms(a.wq(x).view(2, 32, 4, 16), a.q_norm.weight)
    k = rms(a.wk(x).view(2, 32, 2, 16), a.k_norm.weight)
    v = a.wv(x).view(2, 32, 2, 16)
    q, k = apply_rope(q, cos[:32], sin[:32]), apply_rope(k, cos[:32], sin[:32])
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))
    k, v = k.repeat_interleave(2, dim=1), v.repeat_interleave(2, dim=1)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    expected = a.wo(y.transpose(1, 2).reshape(2, 32, -1))
    assert torch.allclose(a(x, cos, sin), expected, atol=1e-5)


def test_qk_norm_over_the_whole_projections_before_the_split_into_heads():
    """OLMoE and OLMo 2 (transformers OlmoeAttention, Olmo2Attention): q_norm = RMSNorm(hidden_size)
    and k_norm = RMSNorm(head_dim · num_key_value_heads) on q_proj(x) and k_proj(x) whole, then the
    split into heads and RoPE."""
    spec, m = _model(**{**LLAMA, "qkNorm": "full", "normEps": 1e-6})
    a = m.layers["0"].attention
    # LLAMA: hidden 64, 4 heads of 16, 2 K/V heads: the projections are 64 and 32 wide
    assert a.q_norm.weight.shape == (64,) and a.k_norm.weight.shape == (32,) and a.k_norm.eps == 1e-6
    with torch.no_grad():
        a.q_norm.weight.copy_(torch.linspace(0.5, 2.0, 64))
        a.k_norm.weight.copy_(torch.linspace(2.0, 0.5, 32))
    x = torch.randn(2, 32, 64)
    cos, sin = m.rope_cos, m.rope_sin
    def rms(t, w):
        return (t.float() * torch.rsqrt(t.float().pow(2).mean(-1, keepdim=True) + 1e-6)).type_as(t) * w
    from executor.worker.model import apply_rope
    # by hand: normalise each token's whole q (64) and k (32), then split into heads and rotate
    q = rms(a.wq(x), a.q_norm.weight).view(2, 32, 4, 16)
    k = rms(a.wk(x), a.k_norm.weight).view(2, 32, 2, 16)
    v = a.wv(x).view(2, 32, 2, 16)
    q, k = apply_rope(q, cos[:32], sin[:32]), apply_rope(k, cos[:32], sin[:32])
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))
    k, v = k.repeat_interleave(2, dim=1), v.repeat_interleave(2, dim=1)
    y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    expected = a.wo(y.transpose(1, 2).reshape(2, 32, -1))
    assert torch.allclose(a(x, cos, sin), expected, atol=1e-5)
    # not the per-head norm: the same weights over each head's 16 channels give another output
    per_head = rms(a.wq(x).view(2, 32, 4, 16), a.q_norm.weight.view(4, 16))
    assert not torch.allclose(per_head.reshape(2, 32, 64), rms(a.wq(x), a.q_norm.weight), atol=1e-3)
    # planner/model.ts qkNormParams: the query and key projections' widths, n·d + g·d = 96
    assert a.q_norm.weight.numel() + a.k_norm.weight.numel() == 4 * 16 + 2 * 16


def test_qk_norm_over_the_whole_projection_runs_at_tp_1_only():
    """A tensor-parallel rank holds heads/tp of each projection: its norm would see a part of it
    (profiles/engines/paraplan.json supports.qkNormFullWithTensorParallel false, rule qk_norm_tp)."""
    with pytest.raises(ValueError, match="qkNorm 'full' normalises each whole projection, which the worker runs at tp 1 only, not tp 2"):
        parse_spec(make_spec(model={**LLAMA, "qkNorm": "full"}, plan={"tp": 2}))
    with pytest.raises(ValueError, match="unknown qkNorm 'rows'"):
        parse_spec(make_spec(model={**LLAMA, "qkNorm": "rows"}))


@pytest.mark.parametrize("model, per_layer, ends", [
    # GPT-style (tiny): two LayerNorms (weight, bias), q, k, v, o and two MLP linears with biases;
    # token and position tables, the final LayerNorm, the tied output: 4·16 + 4 = 68, the
    # broadcasts a ZeRO-1 step of tiny traced on two CPU ranks.
    ({}, [16] * 4, 4),
    # Llama-style: two RMSNorms, q, k, v, o, three MLP matrices, no biases; token table, final
    # norm, untied output.
    (LLAMA, [9] * 4, 3),
    # Qwen2: biases on q, k and v alone.
    ({**LLAMA, "qkvBias": True}, [12] * 4, 3),
    # OLMoE's query and key norms, one weight each, whichever width.
    ({**LLAMA, "qkNorm": "full"}, [11] * 4, 3),
    # A dense first layer, then MoE layers: the router, three stacked expert matrices and the
    # shared expert's three linears in place of the MLP.
    ({**LLAMA, "moe": {"experts": 4, "topK": 2, "sharedExperts": 1, "expertFfnHidden": 64,
                       "denseLayers": 1, "layerFreq": 1, "router": "softmax"}}, [9, 13, 13, 13], 3),
])
def test_parameter_tensors_are_the_planners_count(model, per_layer, ends):
    """planner/cost/param-tensors.ts counts the tensors ZeroRedundancyOptimizer broadcasts one by
    one (test/engines/zero-redundancy.test.ts holds the same counts): the worker's own modules."""
    _, m = _model(**model)
    layers = [len(list(block.parameters())) for block in m.layers.values()]
    assert layers == per_layer
    assert len(list(m.parameters())) == sum(per_layer) + ends
