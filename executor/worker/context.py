"""Context parallel: the sequence of every micro-batch split over cp ranks (planner/types.ts
Plan.cp, cpComm, cpSplit).

Everything but attention is per token, so a cp rank runs embedding, norms, MLPs, head and loss on
its own tokens only. Attention needs every earlier key: the all-gather variant (Llama 3 report
§3.3.2; Megatron-Core `--cp-comm-type all_gather`) computes q, k, v for its tokens, all-gathers
K and V over the cp group, puts them back in sequence order and attends its own queries to them.
The causal mask follows the tokens' global positions (a query at position p sees keys 0..p). No
(s/cp × s) mask is built: each chunk of the rank's queries [a, a + L) (zigzag: its two;
contiguous: one) attends to keys [0, a + L) under a lower-right causal bias
(torch.nn.attention.bias.causal_lower_right(L, a + L): query i sees keys 0..a + i), and the
chunks' outputs are concatenated in the rank's token order. What that dispatches to
(torch/nn/attention/bias.py CausalBias._dispatch, read in the installed torch 2.13): on CUDA the
flash kernel called with is_causal=True, which for L < a + L is FlashAttention-2's
bottom-right-aligned mask (no mask tensor, the masked tiles skipped, K/V at the key/value heads
with enable_gqa); where flash cannot run, the memory-efficient kernel with its lower-right mask
type; where neither can (CPU), SDPA with that chunk's (L, a + L) mask materialised, which the CPU
kernel keeps for backward in the query's dtype. A chunk with a = 0 is a square: plain
is_causal=True. What a layer keeps for backward (planner/cost/cp-saved.ts): the gathered K and V
of the whole sequence (the chunks' keys are views of them), and each chunk's output beside their
concatenation (the output projection's input). The dense reference this replaces:

  mask[i, j] = pos_q[i] >= j        (i: the rank's query i, j: the key at sequence position j)

The gather is an autograd Function (GatherSequence, as torch.distributed.nn.functional.all_gather)
whose backward sums the key/value gradients of every cp rank back onto the rank that computed
them (a reduce-scatter), so the weights' gradients on one rank hold the whole derivative of its
share of the loss. Rotary angles and learned positions use the global positions too.

Splits (2·cp equal chunks for zigzag, cp for contiguous; c = s / chunks tokens each):
  zigzag      rank r holds chunks r and 2cp−1−r (Megatron-Core, torch's head-tail load
              balancer): every rank gets the same causal work;
  contiguous  rank r holds chunk r (the last rank attends to the most keys).

Loss: every rank holds s/cp tokens of each sequence, so the global mean is the mean of the cp
ranks' shard means; train.py averages gradients (and the reported loss) over dp·cp.

The ring variant (cpComm "ring") is torch's own (torch.distributed.tensor.experimental
.context_parallel): it has no CPU sharding strategy for the CPU SDPA op in torch 2.13 (it raises
NotImplementedError), so spec.py refuses it on CPU; on CUDA the same shards and positions are used
and only the attention core is torch's ring SDPA (`ring_step`).
"""
from __future__ import annotations

import inspect
from contextlib import nullcontext
from typing import Optional

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.attention.bias import CausalBias, causal_lower_right

from .flops import add_convention_flops

# torch 2.5 added SDPA's enable_gqa; CausalBias passes it on where its _dispatch takes it
_BIAS_GQA = "enable_gqa" in inspect.signature(CausalBias._dispatch).parameters


class GatherSequence(torch.autograd.Function):
    """All-gather of (b, heads, s/cp, d) shards along the sequence, in cp-rank order; backward
    sums each rank's gradient for every shard onto the shard's owner (a reduce-scatter).

    torch.distributed.nn.functional.all_gather does the same, but on gloo its backward
    (all-to-all emulated with scatter) passes group ranks where global ranks are expected and
    raises for any cp group other than ranks 0..cp−1 (torch 2.13), so dp·cp layouts fail; here
    NCCL reduce-scatters and other backends all-reduce the whole gradient and keep their slice."""

    @staticmethod
    def forward(ctx, t: torch.Tensor, group, cp: int, rank: int) -> torch.Tensor:
        t = t.contiguous()
        parts = [torch.empty_like(t) for _ in range(cp)]
        dist.all_gather(parts, t, group=group)
        ctx.group, ctx.cp, ctx.rank = group, cp, rank
        return torch.cat(parts, dim=2)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        chunks = [c.contiguous() for c in grad.chunk(ctx.cp, dim=2)]
        if dist.get_backend(ctx.group) == "nccl":
            out = torch.empty_like(chunks[ctx.rank])
            dist.reduce_scatter(out, chunks, group=ctx.group)
        else:
            total = torch.cat(chunks, dim=2)
            dist.all_reduce(total, group=ctx.group)  # sum
            out = total.chunk(ctx.cp, dim=2)[ctx.rank].contiguous()
        return out, None, None, None


SPLITS = ("zigzag", "contiguous")
COMMS = ("allgather", "ring", "a2a")


def chunks_of(rank: int, cp: int, split: str) -> list[int]:
    """The sequence chunks cp rank `rank` holds, in order (2·cp chunks for zigzag, cp else)."""
    if split == "zigzag":
        return [rank, 2 * cp - 1 - rank]
    return [rank]


def chunk_count(cp: int, split: str) -> int:
    return 2 * cp if split == "zigzag" else cp


def shard_positions(seq_len: int, rank: int, cp: int, split: str) -> torch.Tensor:
    """Global positions (s/cp,) of the tokens cp rank `rank` holds, in the order it holds them."""
    c = seq_len // chunk_count(cp, split)
    return torch.cat([torch.arange(k * c, (k + 1) * c) for k in chunks_of(rank, cp, split)])


def causal_mask(q_pos: torch.Tensor, seq_len: int) -> torch.Tensor:
    """(len(q_pos), seq_len) bool, True where query at global position q_pos[i] may attend to
    the key at position j (j <= q_pos[i]); the keys are in sequence order. The reference the
    spans below reproduce without building it (test/worker/test_context.py)."""
    return q_pos[:, None] >= torch.arange(seq_len, device=q_pos.device)[None, :]


def causal_spans(seq_len: int, rank: int, cp: int, split: str) -> list[tuple[int, int, CausalBias]]:
    """Chunk by chunk (chunks_of), the rows [first, end) of the rank's queries and the lower-right
    causal bias over the keys [0, k_end) the chunk sees, k_end the chunk's end (bias.seq_len_kv).
    Two zig-zag chunks that touch (rank cp − 1) stay two: one run would ask torch's CPU fallback for
    a larger mask (2c × (cp + 1)c against c × cp·c + c × (cp + 1)c). Built once per rank: creating
    a CausalBias (a tensor subclass) under the step's dispatch modes (metrics.py's memory tracker)
    raises in torch 2.13."""
    c = seq_len // chunk_count(cp, split)
    return [(i * c, (i + 1) * c, causal_lower_right(c, (k + 1) * c)) for i, k in enumerate(chunks_of(rank, cp, split))]


def _lower_right(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: CausalBias) -> torch.Tensor:
    """softmax(q kᵀ/√d) v with query i of L seeing keys 0..(S − L + i) of S (no mask tensor on
    CUDA); k, v at the key/value heads, repeated to the query heads only where this torch's
    CausalBias cannot pass enable_gqa on."""
    gqa = k.size(1) != q.size(1)
    if gqa and not _BIAS_GQA:  # pragma: no cover - torch whose CausalBias predates enable_gqa
        k = k.repeat_interleave(q.size(1) // k.size(1), dim=1)
        v = v.repeat_interleave(q.size(1) // v.size(1), dim=1)
        gqa = False
    extra = {"enable_gqa": True} if gqa else {}
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, **extra)


def span_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, spans) -> torch.Tensor:
    """Causal attention of the rank's queries q (b, n, s/cp, d) to the keys k, v (b, g, s, d) in
    sequence order, chunk by chunk (causal_spans); the chunks' outputs are joined along the tokens in the
    (b, s/cp, n, d) layout the output projection reads."""
    outs = [_lower_right(q[:, :, a:e], k[:, :, :bias.seq_len_kv], v[:, :, :bias.seq_len_kv], bias)
            for a, e, bias in spans]
    out = outs[0] if len(outs) == 1 else torch.cat([o.transpose(1, 2) for o in outs], dim=1).transpose(1, 2)
    # the FLOP convention's rank queries × all s keys, beyond the chunks' rectangles (flops.py)
    b, n, _, d = q.shape
    beyond = q.size(2) * k.size(2) - sum((e - a) * bias.seq_len_kv for a, e, bias in spans)
    return _ConventionFlops.apply(out, 2 * b * n * beyond * (d + v.size(-1)))


class _ConventionFlops(torch.autograd.Function):
    """Identity that reports `n` convention FLOPs forward and 2n backward (flops.py)."""

    @staticmethod
    def forward(ctx, t: torch.Tensor, n: int) -> torch.Tensor:
        ctx.n = n
        add_convention_flops(n)
        return t.view_as(t)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        add_convention_flops(2 * ctx.n)
        return grad, None


class ContextParallel:
    """One rank's view of its cp group: which tokens it holds and how attention reaches the rest."""

    def __init__(self, cp: int, rank: int, split: str, comm: str, group, seq_len: int,
                 device: torch.device, mesh=None):
        self.cp, self.rank, self.split, self.comm = cp, rank, split, comm
        self.group, self.mesh, self.seq_len = group, mesh, seq_len
        self.positions = shard_positions(seq_len, rank, cp, split).to(device)  # (s/cp,)
        # gathered shards come in rank order; `order` puts their keys in sequence order
        every = torch.cat([shard_positions(seq_len, r, cp, split) for r in range(cp)])
        self.order = torch.argsort(every).to(device)
        self.spans = causal_spans(seq_len, rank, cp, split)  # zigzag: 2 chunks, contiguous: 1

    def shard(self, t: torch.Tensor, dim: int = 1) -> torch.Tensor:
        """This rank's tokens of a full-sequence tensor (dim: the sequence)."""
        return t.index_select(dim, self.positions.to(t.device))

    def gather(self, t: torch.Tensor) -> torch.Tensor:
        """(b, heads, s/cp, d) of every cp rank → (b, heads, s, d) in sequence order, with
        gradients flowing back to the ranks that computed them. (torch 2.13's pipeline stages
        infer shapes by running real tensors through the stage on every rank at once, so the
        gather also meets its cp peers there.)"""
        gathered = GatherSequence.apply(t, self.group, self.cp, self.rank)
        return gathered.index_select(2, self.order)

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
               core=None) -> torch.Tensor:
        """Attention of this rank's queries q (b, n, s/cp, d) to every key; k, v (b, g, s/cp, d)
        at the key/value heads. `core(q, k, v, spans)` runs span_attention (model.py
        attention_core, under selective recompute's checkpoint where asked)."""
        if self.comm == "ring":  # inside ring_step: torch's ring attention over the cp mesh
            if k.size(1) != q.size(1):  # GQA: each kv head serves n/g query heads
                k = k.repeat_interleave(q.size(1) // k.size(1), dim=1)
                v = v.repeat_interleave(q.size(1) // v.size(1), dim=1)
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        k, v = self.gather(k), self.gather(v)
        if core is None:
            return span_attention(q, k, v, self.spans)
        return core(q, k, v, self.spans)


def ring_step(ctx: Optional[ContextParallel]):
    """The context a training step (forward and backward) runs in. Ring: torch's
    context_parallel on the cp mesh, under which causal SDPA on the local q, k, v is its ring
    attention (K/V chunks passed around the cp ranks, Liu et al. 2023) forward and backward. The
    worker shards the batch itself, so the only buffer handed over is a throw-away position
    vector; the load balancing is switched to match the split (zigzag: torch's head-tail
    balancer, the same chunks r and 2cp−1−r; contiguous: none)."""
    if ctx is None or ctx.comm != "ring":
        return nullcontext()
    from torch.distributed.tensor.experimental import context_parallel
    from torch.distributed.tensor.experimental._attention import _cp_options

    _cp_options.enable_load_balance = ctx.split == "zigzag"
    dummy = torch.arange(ctx.seq_len, device=ctx.positions.device)
    return context_parallel(ctx.mesh, buffers=[dummy], buffer_seq_dims=[0], no_restore_buffers={dummy})


def attach(model, ctx: Optional[ContextParallel]) -> None:
    """Give a model part (the whole GPT or one pipeline stage) and its attention modules the
    rank's context-parallel view (None: the whole sequence)."""
    model.cp = ctx
    for layer in model.layers.values():
        layer.attention.cp = ctx
