"""Pipeline parallel with torch.distributed.pipelining (torchtitan's manual split).

pp · vpp stages; stage k holds layers [k·L/S, (k+1)·L/S) (S = pp · vpp, an even split, any
remainder spread over the stages), the embedding on stage 0, final norm + output head (and the
loss, via the schedule's loss_fn) on stage S − 1. Pipeline rank r holds stages r, r + pp, ...
(the "loop" placement of interleaved 1F1B, Narayanan et al. 2021 §2.2).

Tied embeddings: stage 0's embedding and stage S − 1's head are separate copies (initialised
alike, model.canonical_name); after each backward their gradients are summed over the
(first, last) rank pair of every (dp, tp) coordinate, so both copies receive the same update,
as Megatron-LM does with its embedding group.
"""
from __future__ import annotations

import copy
import inspect
from typing import Callable

import torch
import torch.distributed as dist
from torch.distributed.pipelining import (
    PipelineStage,
    Schedule1F1B,
    ScheduleGPipe,
    ScheduleInterleaved1F1B,
)

from .model import GPT
from .parallel import local


def stage_ids(pp_rank: int, pp: int, vpp: int) -> list[int]:
    return [pp_rank + i * pp for i in range(vpp)]


def split_stage(model: GPT, stage: int, num_stages: int) -> GPT:
    """A copy of the (meta) model holding only what `stage` computes."""
    part = copy.deepcopy(model)
    layers = part.spec.layers
    lo, hi = layers * stage // num_stages, layers * (stage + 1) // num_stages
    for name in list(part.layers.keys()):
        if not lo <= int(name) < hi:
            del part.layers[name]
    if stage > 0:
        part.embed = None
    if stage < num_stages - 1:
        part.norm = None
        part.output = None
    return part


def make_stage(module: torch.nn.Module, stage: int, num_stages: int, device: torch.device,
               group, example_input: torch.Tensor) -> PipelineStage:
    kwargs = {"group": group}
    param = inspect.signature(PipelineStage.__init__).parameters.get("input_args")
    if param is not None and param.default is inspect.Parameter.empty:  # torch 2.5: static shapes
        kwargs["input_args"] = example_input
    return PipelineStage(module, stage, num_stages, device, **kwargs)


def make_schedule(stages: list[PipelineStage], schedule: str, vpp: int, m: int,
                  loss_fn: Callable) -> object:
    """n_microbatches = m. The loss_fn already divides by m, so the schedule must not scale the
    gradients again (scale_grads=False where the argument exists; older torch never scales)."""
    if vpp > 1:
        cls, arg = ScheduleInterleaved1F1B, stages
    else:
        cls = ScheduleGPipe if schedule == "gpipe" else Schedule1F1B
        arg = stages[0]
    kwargs = {"loss_fn": loss_fn}
    if "scale_grads" in inspect.signature(cls.__init__).parameters:
        kwargs["scale_grads"] = False
    return cls(arg, n_microbatches=m, **kwargs)


class TiedEmbeddingSync:
    """Sum the gradient of stage 0's embedding and stage S−1's head copy over each rank pair."""

    def __init__(self, mesh, parts: list[GPT]):
        ranks = mesh.mesh  # (pp, dp, tp) tensor of global ranks
        pp, dp, tp = ranks.shape
        self.group = None
        me = dist.get_rank()
        for d in range(dp):
            for t in range(tp):
                pair = [int(ranks[0, d, t]), int(ranks[pp - 1, d, t])]
                g = dist.new_group(pair)  # every rank creates every group, in the same order
                if me in pair:
                    self.group = g
        self.parts = parts

    @torch.no_grad()
    def sync(self) -> None:
        # looked up each time: FSDP swaps sharded/unsharded parameters on the module
        for part in self.parts:
            for holder in (part.embed.tok if part.embed is not None else None, part.output):
                if holder is not None and holder.weight.grad is not None:
                    dist.all_reduce(local(holder.weight.grad), group=self.group)
