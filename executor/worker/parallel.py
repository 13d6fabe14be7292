"""Parallelisms applied to one model part (the whole GPT, or one pipeline stage), torchtitan style.

One DeviceMesh with dims ("pp", "dp", "cp", "tp"), tp innermost (planner/types.ts Plan: placement
tp innermost, then cp, dp, pp); context parallel (context.py) splits the sequence over cp, and
data parallel below reduces over the dp·cp ranks. The order, as in torchtitan's parallelize_llama:

  0. pipeline split (pipeline.py), before everything below, on the meta model;
  1. apply_tp   tensor (+ sequence) parallel with DTensor: parallelize_module;
  2. apply_ac   activation checkpointing (full: each block; selective: per-op SAC);
  2b. compile  torch.compile per block when the run is compiled (compile.py, execution.py);
  3. data parallel by ZeRO stage (chosen in train.Trainer._apply_dp): 0 apply_ddp,
                1 apply_ddp + ZeroRedundancyOptimizer (optim.py), 2 apply_fsdp with
                reshard_after_forward=False, 3 apply_fsdp (FSDP2 fully_shard).

Where DDP cannot be used, stages 0 and 1 replicate by hand instead (`GradReplicator`): one
bucketed all-reduce (mean) over the dp group of the local gradient shards after backward, the
collective DDP would issue. That is with tp > 1 (DDP rejects DTensor parameters) and with pp > 1
(DDP's reducer fails its bucket rebuild under the pipeline schedules' backward in torch 2.13:
"rebuilt parameter indices size is not same as original model parameters size"). ZeRO-1 then
partitions the optimizer over the local shards (optim.py).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    PrepareModuleInput,
    PrepareModuleOutput,
    RowwiseParallel,
    SequenceParallel,
    parallelize_module,
)
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.checkpoint import checkpoint, set_checkpoint_early_stop

try:
    from torch.distributed.tensor import DTensor, Replicate, Shard
except ImportError:  # pragma: no cover - torch < 2.4
    from torch.distributed._tensor import DTensor, Replicate, Shard

try:
    from torch.distributed.fsdp import fully_shard
except ImportError:  # pragma: no cover - torch 2.5
    from torch.distributed._composable.fsdp import fully_shard

from .fastpaths import apply_selective_ac, sac_available
from .model import GPT


def apply_tp(model: GPT, tp_mesh, sequence_parallel: bool) -> None:
    """Megatron-LM tensor parallel (Shoeybi et al. 2019 §3) expressed with DTensor.

    Per block: wq, wk, wv, w1 (w3) column-parallel (output features split t ways: each rank
    holds n/t heads and f/t ffn columns); wo, w2 row-parallel (input features split; partial
    sums all-reduced). Embedding vocab-parallel (rows split, masked lookup, all-reduce);
    output head column-parallel over V, gathered to full logits for the loss.

    Sequence parallel (Korthikanti et al. 2022 §4.2.2): between blocks the activations are split
    along the sequence (Shard(1)); norms run on the shard (SequenceParallel); the block inputs
    are all-gathered (PrepareModuleInput Shard(1) → Replicate) and the row-parallel outputs
    reduce-scattered (output_layouts=Shard(1)) instead of all-reduced.
    """
    seq = Shard(1) if sequence_parallel else Replicate()
    top: dict[str, object] = {}
    if model.embed is not None:
        if model.embed.pos is None:
            # rope: the token embedding's partial sums reduce-scatter straight onto the sequence
            top["embed.tok"] = RowwiseParallel(input_layouts=Replicate(), output_layouts=seq)
        else:
            # learned positions are added to the full sequence, then the sum is split
            top["embed.tok"] = RowwiseParallel(input_layouts=Replicate(), output_layouts=Replicate())
            if sequence_parallel:
                top["embed"] = PrepareModuleOutput(output_layouts=Replicate(), desired_output_layouts=seq)
    if model.norm is not None and sequence_parallel:
        top["norm"] = SequenceParallel()
    if model.output is not None:
        top["output"] = ColwiseParallel(input_layouts=seq, output_layouts=Replicate())
    # parallelize_module gives each module its own DTensor parameter; re-tie afterwards
    # (embedding rows and head rows are both Shard(0), so one DTensor serves both).
    parallelize_module(model, tp_mesh, top)
    model.tie_weights()

    for block in model.layers.values():
        plan: dict[str, object] = {
            "attention.wq": ColwiseParallel(),
            "attention.wk": ColwiseParallel(),
            "attention.wv": ColwiseParallel(),
            "attention.wo": RowwiseParallel(output_layouts=seq),
            "feed_forward.w1": ColwiseParallel(),
            "feed_forward.w2": RowwiseParallel(output_layouts=seq),
        }
        if block.feed_forward.w3 is not None:
            plan["feed_forward.w3"] = ColwiseParallel()
        if sequence_parallel:
            plan["attention_norm"] = SequenceParallel()
            plan["ffn_norm"] = SequenceParallel()
            plan["attention"] = PrepareModuleInput(
                input_layouts=(seq, None, None), desired_input_layouts=(Replicate(), None, None))
            plan["feed_forward"] = PrepareModuleInput(
                input_layouts=(seq,), desired_input_layouts=(Replicate(),))
        parallelize_module(block, tp_mesh, plan)


def _recompute_whole(fn, *args, **kwargs):
    """Non-reentrant checkpoint that re-runs the whole block forward in backward. torch's
    default "early stop" ends the recomputation once the last saved tensor is rebuilt (skipping
    the block's final matmul); Megatron-LM's full recompute, which the planner models
    (hardware FLOPs = model FLOPs + one forward of the layers), re-runs all of it."""
    if _compiling():  # compiled blocks: checkpoint becomes a region AOTAutograd recomputes
        return checkpoint(fn, *args, use_reentrant=False, **kwargs)
    with set_checkpoint_early_stop(False):
        return checkpoint(fn, *args, use_reentrant=False, **kwargs)


def _compiling() -> bool:
    compiler = getattr(torch, "compiler", None)
    return bool(compiler is not None and hasattr(compiler, "is_compiling") and compiler.is_compiling())


def apply_ac(model: GPT, recompute: str, depth: int | None = None) -> str:
    """full: every block's forward is re-run in backward (only block inputs are kept), or with
    `depth` only this chunk's first `depth` blocks, the others keeping their activations
    (Megatron-Core's --recompute-method block: transformer_block.py _checkpointed_forward,
    `l < recompute_num_layers` over a chunk's layers; the plan's recomputeLayers);
    selective: per-op SAC (fastpaths.py: matmul outputs saved, the rest of the block, attention
    core softmax(QKᵀ)V included, recomputed; Korthikanti et al. 2022 §5), or on a torch without
    it the attention core alone. Returns what was applied."""
    if recompute == "full":
        # (a pipeline part's layers in model order: pipeline.py keeps the chunk's, in order)
        blocks = list(model.layers.named_children())
        for name, block in blocks if depth is None else blocks[:depth]:
            model.layers.register_module(name, checkpoint_wrapper(block, checkpoint_fn=_recompute_whole))
        return "full" if depth is None or depth >= len(blocks) else f"full(first {depth} of {len(blocks)})"
    if recompute == "selective":
        if sac_available():
            apply_selective_ac(model)
            return "selective(per-op)"
        for block in model.layers.values():
            block.attention.selective_recompute = True
        return "selective(attention core)"
    return "none"


def apply_fsdp(model: GPT, dp_mesh, zero: int, mp_policy=None) -> None:
    """FSDP2 (ZeRO-3 style sharding of params, grads and optimizer states over dp). Each block is
    its own unit (all-gathered just before use), the root holds embedding, norm and head (one
    unit, so a tied embedding/head parameter is one parameter). Stage 2 keeps the gathered
    parameters from forward to backward (reshard_after_forward=False): sharded grads and
    optimizer states, as ZeRO-2; stage 3 frees them after forward and gathers again."""
    reshard = zero == 3
    mp = {"mp_policy": mp_policy} if mp_policy is not None else {}  # fastpaths.fsdp_mixed_precision
    for block in model.layers.values():
        fully_shard(block, mesh=dp_mesh, reshard_after_forward=reshard, **mp)
    fully_shard(model, mesh=dp_mesh, reshard_after_forward=reshard, **mp)


def apply_ddp(model: nn.Module, dp_group, device: torch.device) -> DDP:
    """Stage 0 (and 1) without tensor parallel: DDP, gradients all-reduced (mean) in buckets
    during the last micro-batch's backward (over the dp·cp group when context parallel)."""
    ids = [device.index] if device.type == "cuda" else None
    return DDP(model, process_group=dp_group, device_ids=ids, broadcast_buffers=False)


class GradReplicator:
    """Data parallel at ZeRO 0/1 where DDP does not fit (tp > 1 or pp > 1): after backward,
    average every gradient's local shard over the dp group with bucketed all-reduces."""

    def __init__(self, params: list[nn.Parameter], dp_group, bucket_bytes: int = 25 * 2**20,
                 divisor: Optional[int] = None, fill_missing: bool = False):
        """`divisor`: what the summed gradients are divided by (default the group's size);
        expert gradients are summed over their edp replicas and divided by dp (moe.py).
        `fill_missing`: a parameter without a gradient on this rank (experts no token chose)
        sends zeros, so that every rank's buckets line up."""
        self.params, self.group, self.bucket_bytes = params, dp_group, bucket_bytes
        self.fill_missing = fill_missing
        self.size = divisor if divisor is not None else dist.get_world_size(dp_group)
        self.bytes_per_step = 0

    @torch.no_grad()
    def all_reduce(self) -> None:
        buckets: list[list[torch.Tensor]] = [[]]
        used = 0
        for p in self.params:
            if p.grad is None:
                if not self.fill_missing:
                    continue
                p.grad = torch.zeros_like(p)
            g = local(p.grad)
            nbytes = g.numel() * g.element_size()
            if buckets[-1] and used + nbytes > self.bucket_bytes:
                buckets.append([])
                used = 0
            buckets[-1].append(g)
            used += nbytes
        self.bytes_per_step = 0
        for bucket in buckets:
            if not bucket:
                continue
            flat = torch.cat([g.reshape(-1) for g in bucket])
            dist.all_reduce(flat, group=self.group)  # sum; gloo has no AVG
            flat.div_(self.size)
            offset = 0
            for g in bucket:
                g.copy_(flat[offset:offset + g.numel()].view_as(g))
                offset += g.numel()
            self.bytes_per_step += flat.numel() * flat.element_size()


def local(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
    """The rank's own storage of a parameter or gradient (DTensor → its local shard)."""
    if isinstance(t, DTensor):
        return t._local_tensor
    return t
