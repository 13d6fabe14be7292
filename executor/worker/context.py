"""Context parallel: the sequence of every micro-batch split over cp ranks (planner/types.ts
Plan.cp, cpComm, cpSplit).

Everything but attention is per token, so a cp rank runs embedding, norms, MLPs, head and loss on
its own tokens only. Attention needs every earlier key: the all-gather variant (Llama 3 report
§3.3.2; Megatron-Core `--cp-comm-type all_gather`) computes q, k, v for its tokens, all-gathers
K and V over the cp group, puts them back in sequence order and attends its own queries to them
with the causal mask taken from the tokens' global positions:

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

from contextlib import nullcontext
from typing import Optional

import torch
import torch.distributed as dist
import torch.nn.functional as F


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
    the key at position j (j <= q_pos[i]); the keys are in sequence order."""
    return q_pos[:, None] >= torch.arange(seq_len, device=q_pos.device)[None, :]


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
        self.mask = causal_mask(self.positions, seq_len)  # (s/cp, s)

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
        before the GQA repeat. `core(q, k, v, mask)` runs softmax(qkᵀ/√d + mask) v."""
        if self.comm != "ring":
            k, v = self.gather(k), self.gather(v)
        if k.size(1) != q.size(1):  # GQA: each kv head serves n/g query heads (after the gather)
            k = k.repeat_interleave(q.size(1) // k.size(1), dim=1)
            v = v.repeat_interleave(q.size(1) // v.size(1), dim=1)
        if self.comm == "ring":  # inside ring_step: torch's ring attention over the cp mesh
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        mask = self.mask.to(q.device)
        if core is None:
            return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return core(q, k, v, mask)


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
