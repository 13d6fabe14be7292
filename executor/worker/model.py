"""One GPT built from the planner's ModelSpec (nanoGPT / torchtitan style).

GPT-3 style (positional "learned"): learned positions, LayerNorm, biases, GELU MLP (h → f → h).
Llama style ("rope"): rotary positions, RMSNorm, no biases, SwiGLU MLP (w2(silu(w1 x) · w3 x)),
or GeGLU (w2(gelu_tanh(w1 x) · w3 x), Gemma), grouped-query attention when kvHeads < heads; the
rotary base, Llama 3.1 rope scaling, norm epsilon and head width d are the spec's. Dropout is never applied (p = 0), so every parallel
layout computes the same function.

Shapes: b micro-batch, s sequence, h hidden, n heads, g kv heads, d = h/n head dim, f ffn hidden,
V vocabPadded. Under tensor parallelism the head and ffn counts inside a rank are n/t, g/t, f/t:
the views below use -1 for them so the same code runs sharded or not.

Every sub-module may be None (`embed`, `norm`, `output`; layers deleted) so that a pipeline stage
is this same class with the parts it does not hold removed (torchtitan's manual split). Layers
live in a ModuleDict keyed by their global index, so parameter names do not depend on the split.
"""
from __future__ import annotations

import math
import zlib
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

from .context import span_attention
from .moe import EXPERT_PARAM, MoEFeedForward, is_moe_layer
from .spec import ModelSpec


class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x²) + eps) · w  (Zhang & Sennrich 2019), computed in fp32."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + self.eps)
        return y.type_as(x) * self.weight


def make_norm(spec: ModelSpec) -> nn.Module:
    return nn.LayerNorm(spec.hidden, eps=spec.norm_eps) if spec.gpt_style else RMSNorm(spec.hidden, eps=spec.norm_eps)


def llama3_scaling(inv: torch.Tensor, s: dict) -> torch.Tensor:
    """Llama 3.1 frequency scaling (Meta's apply_scaling; HF rope_type "llama3"): wavelengths
    longer than original/low are divided by factor, shorter than original/high kept, and those
    between interpolated smoothly."""
    factor, low, high, orig = s["factor"], s["lowFreqFactor"], s["highFreqFactor"], s["originalMaxPositions"]
    wavelen = 2 * math.pi / inv
    smooth = ((orig / wavelen - low) / (high - low)).clamp(0.0, 1.0)
    scaled = (1 - smooth) * inv / factor + smooth * inv
    return torch.where(wavelen > orig / low, inv / factor, torch.where(wavelen < orig / high, inv, scaled))


def rope_tables(seq_len: int, head_dim: int, device=None, theta: float = 10000.0, scaling: Optional[dict] = None):
    """cos, sin of shape (s, d/2): angle[p, i] = p · theta^(-2i/d) (Su et al. 2021)."""
    inv = theta ** (-torch.arange(0, head_dim, 2, device=device, dtype=torch.float32) / head_dim)
    if scaling is not None:
        inv = llama3_scaling(inv, scaling)
    angles = torch.outer(torch.arange(seq_len, device=device, dtype=torch.float32), inv)
    return angles.cos(), angles.sin()


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs (x[2i], x[2i+1]) by angle[p, i]; x: (b, s, heads, d)."""
    x1, x2 = x.float().unflatten(-1, (-1, 2)).unbind(-1)  # (b, s, heads, d/2) each
    c, s_ = cos[None, :, None, :], sin[None, :, None, :]
    out = torch.stack((x1 * c - x2 * s_, x1 * s_ + x2 * c), dim=-1).flatten(-2)
    return out.type_as(x)


def attention_core(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, spans=None) -> torch.Tensor:
    """softmax(q kᵀ/√d + causal mask) v; q, k, v: (b, heads, s, d). The part that selective
    recompute re-runs in backward (Korthikanti et al. 2022 §4.2). `spans` (context.py
    causal_spans) where the queries are a context-parallel shard attending to the whole
    sequence's K/V: each run of them under a lower-right causal bias, no mask tensor."""
    if spans is not None:
        return span_attention(q, k, v, spans)
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def _core(selective: bool):
    """attention_core, under a checkpoint when selective recompute asks for it."""
    if selective and torch.is_grad_enabled():
        return lambda *args: checkpoint(attention_core, *args, use_reentrant=False)
    return attention_core


class Attention(nn.Module):
    def __init__(self, spec: ModelSpec):
        super().__init__()
        h, d, bias = spec.hidden, spec.head_dim, spec.gpt_style
        qkv_bias = bias or spec.qkv_bias  # Qwen2: q/k/v biased, o not (transformers Qwen2Attention)
        self.head_dim = d
        self.wq = nn.Linear(h, spec.heads * d, bias=qkv_bias)  # h → n·d
        self.wk = nn.Linear(h, spec.kv_heads * d, bias=qkv_bias)  # h → g·d
        self.wv = nn.Linear(h, spec.kv_heads * d, bias=qkv_bias)  # h → g·d
        self.wo = nn.Linear(spec.heads * d, h, bias=bias)  # n·d → h
        # Qwen3's q_norm / k_norm: RMSNorm over each head's d channels, before the rotation
        # (transformers Qwen3Attention); per head, so a tensor-parallel shard of heads runs it alone.
        # OLMo 2's and OLMoE's: over the whole projections, n·d and g·d, before the split into
        # heads (transformers Olmo2Attention, OlmoeAttention: q_norm(q_proj(x))); tp 1 only
        # (spec.py validate), a tensor-parallel rank holding a part of each projection.
        widths = {"head": (d, d), "full": (spec.heads * d, spec.kv_heads * d)}.get(spec.qk_norm or "")
        self.full_qk_norm = spec.qk_norm == "full"
        self.q_norm = RMSNorm(widths[0], eps=spec.norm_eps) if widths else None
        self.k_norm = RMSNorm(widths[1], eps=spec.norm_eps) if widths else None
        self.selective_recompute = False  # set by parallel.apply_ac
        self.cp = None  # context.ContextParallel when the sequence is split over cp ranks

    def forward(self, x, cos: Optional[torch.Tensor] = None, sin: Optional[torch.Tensor] = None):
        b, s, _ = x.shape
        q, k = self.wq(x), self.wk(x)  # (b, s, n·d), (b, s, g·d)
        if self.full_qk_norm:  # over each whole projection
            q, k = self.q_norm(q), self.k_norm(k)
        q = q.view(b, s, -1, self.head_dim)  # (b, s, n, d)
        k = k.view(b, s, -1, self.head_dim)  # (b, s, g, d)
        v = self.wv(x).view(b, s, -1, self.head_dim)
        if self.q_norm is not None and not self.full_qk_norm:  # over d, each head: (b, s, heads, d)
            q, k = self.q_norm(q), self.k_norm(k)
        if cos is not None:  # rows of the tokens' positions (GPT.forward picks them)
            q, k = apply_rope(q, cos[:s], sin[:s]), apply_rope(k, cos[:s], sin[:s])
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # (b, heads, s, d)
        core = _core(self.selective_recompute)
        if self.cp is not None:  # context parallel: K/V of every cp rank (context.py)
            y = self.cp.attend(q, k, v, core)
            return self.wo(y.transpose(1, 2).reshape(b, s, -1))
        if k.size(1) != q.size(1):  # GQA: each kv head serves n/g query heads
            k = k.repeat_interleave(q.size(1) // k.size(1), dim=1)
            v = v.repeat_interleave(q.size(1) // v.size(1), dim=1)
        y = core(q, k, v)
        return self.wo(y.transpose(1, 2).reshape(b, s, -1))  # (b, s, n·d) → (b, s, h)


class FeedForward(nn.Module):
    def __init__(self, spec: ModelSpec):
        super().__init__()
        h, f, bias = spec.hidden, spec.ffn_hidden, spec.gpt_style
        self.mlp = spec.mlp
        self.w1 = nn.Linear(h, f, bias=bias)  # h → f (gate for SwiGLU and GeGLU)
        self.w2 = nn.Linear(f, h, bias=bias)  # f → h
        self.w3 = nn.Linear(h, f, bias=bias) if spec.gated else None  # h → f (up)

    def forward(self, x):
        if self.mlp == "swiglu":
            return self.w2(F.silu(self.w1(x)) * self.w3(x))
        if self.mlp == "geglu":  # Gemma's gelu_pytorch_tanh gate
            return self.w2(F.gelu(self.w1(x), approximate="tanh") * self.w3(x))
        return self.w2(F.gelu(self.w1(x)))


class Block(nn.Module):
    """Pre-norm residual block: x + attn(norm(x)), then x + mlp(norm(x)); the MLP is a mixture
    of experts (moe.py) on the model's MoE layers."""

    def __init__(self, spec: ModelSpec, index: int = 0, ep: int = 1, ep_rank: int = 0):
        super().__init__()
        self.attention_norm = make_norm(spec)
        self.attention = Attention(spec)
        self.ffn_norm = make_norm(spec)
        moe = spec.moe is not None and is_moe_layer(spec.moe, index)
        self.feed_forward = MoEFeedForward(spec, spec.moe, ep, ep_rank) if moe else FeedForward(spec)

    def forward(self, x, cos=None, sin=None):
        x = x + self.attention(self.attention_norm(x), cos, sin)
        return x + self.feed_forward(self.ffn_norm(x))


class Embedding(nn.Module):
    """Token embedding (V rows) plus, GPT-3 style, learned positions: (b, s) ids → (b, s, h)."""

    def __init__(self, spec: ModelSpec, vocab_padded: int):
        super().__init__()
        self.tok = nn.Embedding(vocab_padded, spec.hidden)
        self.pos = nn.Embedding(spec.seq_len, spec.hidden) if spec.positional == "learned" else None

    def forward(self, tokens, positions: Optional[torch.Tensor] = None):
        """positions: the tokens' global positions (a context-parallel shard), else 0..s−1."""
        x = self.tok(tokens)
        if self.pos is not None:
            x = x + self.pos(positions if positions is not None else torch.arange(tokens.size(1), device=tokens.device))
        return x


class GPT(nn.Module):
    def __init__(self, spec: ModelSpec, vocab_padded: int, seq_len: int, ep: int = 1, ep_rank: int = 0):
        super().__init__()
        self.spec = spec
        self.embed: Optional[Embedding] = Embedding(spec, vocab_padded)
        self.layers = nn.ModuleDict({str(i): Block(spec, i, ep, ep_rank) for i in range(spec.layers)})
        self.norm: Optional[nn.Module] = make_norm(spec)
        self.output: Optional[nn.Linear] = nn.Linear(spec.hidden, vocab_padded, bias=False)
        self.rope = spec.positional == "rope"
        self.cp = None  # context.ContextParallel: this rank's tokens are a shard of the sequence
        if self.rope:
            cos, sin = rope_tables(seq_len, spec.head_dim, theta=spec.rope_theta, scaling=spec.rope_scaling)
            self.register_buffer("rope_cos", cos, persistent=False)
            self.register_buffer("rope_sin", sin, persistent=False)
        self.tie_weights()

    def tie_weights(self) -> None:
        """One parameter for input embedding and output head when tiedEmbeddings (and both are
        on this module; a pipeline's last stage keeps its own copy, see pipeline.py)."""
        if self.spec.tied and self.embed is not None and self.output is not None:
            self.output.weight = self.embed.tok.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """tokens (b, s) on the first stage, hidden (b, s, h) after → logits (b, s, V) on the last."""
        positions = self.cp.positions if self.cp is not None else None
        if self.embed is not None:
            x = self.embed(x, positions)
        cos = self.rope_cos if self.rope else None
        sin = self.rope_sin if self.rope else None
        if self.rope and positions is not None:  # rotary angles of the shard's global positions
            cos, sin = cos.index_select(0, positions), sin.index_select(0, positions)
        for layer in self.layers.values():
            x = layer(x, cos, sin)
        if self.norm is not None:
            x = self.norm(x)
        if self.output is not None:
            x = self.output(x)
        return x


def canonical_name(name: str, spec: ModelSpec) -> str:
    """The name a parameter is initialised under: the last stage's copy of a tied embedding
    takes the embedding's, so both copies start equal."""
    return "embed.tok.weight" if spec.tied and name == "output.weight" else name


@torch.no_grad()
def init_weights(model: GPT, seed: int) -> None:
    """GPT-2 initialisation, each parameter from its own generator seeded by (seed, name), so
    the values do not depend on which layers a rank holds or the order they are built in:
    weights N(0, 0.02), residual projections (wo, w2) N(0, 0.02/√(2L)), biases 0, norms 1."""
    spec = model.spec
    for name, p in model.named_parameters():
        name = canonical_name(name, spec)
        if name.endswith("norm.weight"):
            p.fill_(1.0)
        elif name.endswith(".bias"):
            p.zero_()
        else:
            residual = name.endswith(("wo.weight", "w2.weight", EXPERT_PARAM + "w2"))
            std = 0.02 / math.sqrt(2 * spec.layers) if residual else 0.02
            g = torch.Generator(device=p.device)
            g.manual_seed((seed * 1_000_003 + zlib.crc32(name.encode())) % 2**63)
            if EXPERT_PARAM in name:
                # all E experts drawn as one tensor, this rank's slice kept: the same values
                # whichever experts a rank holds (expert parallel)
                experts = model.get_submodule(name.rsplit(".", 1)[0])
                full = torch.empty((experts.total, *p.shape[1:]), device=p.device)
                full.normal_(0.0, std, generator=g)
                p.copy_(full[experts.offset:experts.offset + p.size(0)])
            else:
                p.normal_(0.0, std, generator=g)
    if model.rope:
        cos, sin = rope_tables(model.rope_cos.size(0), spec.head_dim, device=model.rope_cos.device,
                               theta=spec.rope_theta, scaling=spec.rope_scaling)
        model.rope_cos.copy_(cos)
        model.rope_sin.copy_(sin)


def build_meta_model(spec: ModelSpec, vocab_padded: int, seq_len: int, ep: int = 1, ep_rank: int = 0) -> GPT:
    """The whole model on the meta device (no memory); pipeline.split_stages cuts it up and
    materialize() gives each rank real storage for what it holds (its E/ep experts)."""
    with torch.device("meta"):
        return GPT(spec, vocab_padded, seq_len, ep, ep_rank)


def materialize(model: GPT, device: torch.device, seed: int) -> GPT:
    model.to_empty(device=device)
    model.tie_weights()  # to_empty gives each module its own tensor
    init_weights(model, seed)
    return model


def cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token loss over b·s tokens, in fp32, over all V (padded) classes."""
    return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())
