"""Pipeline parallel with torch.distributed.pipelining (torchtitan's manual split).

pp · vpp stages; stage k holds layers [k·L/S, (k+1)·L/S) (S = pp · vpp, an even split, any
remainder spread over the stages), or the plan's stageLayers (uneven stages, one per rank: stage
k holds the next stageLayers[k] layers); the embedding on stage 0, final norm + output head (and
the loss, via the schedule's loss_fn) on stage S − 1. Pipeline rank r holds stages r, r + pp, ...
(the "loop" placement of interleaved 1F1B, Narayanan et al. 2021 §2.2, and of zb1p), or, for the
V-shaped zbv and dualpipev, stages r and 2·pp − 1 − r (torch generate_stage_to_rank_mapping
style "v"): rank 0 then holds both the embedding and the head.

Schedules: 1f1b Schedule1F1B, gpipe ScheduleGPipe, interleaved ScheduleInterleaved1F1B, zb1p
ScheduleInterleavedZeroBubble, zbv ScheduleZBVZeroBubble, dualpipev ScheduleDualPipeV (the last
three split the backward into input and weight gradients, Qi et al. 2024; torch raises on stages
that were torch.compile'd, so those stages run eager: EAGER_REASON).

Tied embeddings: stage 0's embedding and stage S − 1's head are separate copies (initialised
alike, model.canonical_name); after each backward their gradients are summed over the
(first, last) rank pair of every (dp, cp, tp) coordinate, so both copies receive the same update,
as Megatron-LM does with its embedding group.
"""
from __future__ import annotations

import copy
import inspect
from typing import Callable

import torch
import torch.distributed as dist
from torch.distributed.pipelining import PipelineStage
from torch.distributed.pipelining import schedules as _schedules

from .model import GPT
from .parallel import local


# paraplan's schedule name → torch.distributed.pipelining class name.
SCHEDULE_CLASSES = {
    "1f1b": "Schedule1F1B",
    "gpipe": "ScheduleGPipe",
    "interleaved": "ScheduleInterleaved1F1B",
    "zb1p": "ScheduleInterleavedZeroBubble",
    "zbv": "ScheduleZBVZeroBubble",
    "dualpipev": "ScheduleDualPipeV",
}
# Schedules whose stages take a list (PipelineScheduleMulti) even with one stage per rank.
MULTI = ("interleaved", "zb1p", "zbv", "dualpipev")
V_SHAPED = ("zbv", "dualpipev")
# torch: "we dont support input/weight backward split with torch.compile"
# (_check_torch_compile_compatibility raises on an OptimizedModule in a stage).
ZB_SCHEDULES = ("zb1p", "zbv", "dualpipev")
EAGER_REASON = ("stages run eager: torch.distributed.pipelining refuses torch.compile'd stages "
                "for schedules that split the backward (input/weight gradients)")


def compile_allowed(schedule: str) -> tuple[bool, str]:
    """Whether stages may be torch.compile'd under `schedule`, and the reason when not."""
    if schedule in ZB_SCHEDULES:
        return False, EAGER_REASON
    return True, ""


def schedule_class(schedule: str):
    """The torch class for `schedule`, or a clear error where the installed torch lacks it."""
    name = SCHEDULE_CLASSES[schedule]
    cls = getattr(_schedules, name, None)
    if cls is None:
        raise RuntimeError(f"the {schedule} schedule needs torch.distributed.pipelining.{name}, "
                           f"which torch {torch.__version__} does not have (torch 2.13 has it)")
    return cls


def stage_ids(pp_rank: int, pp: int, vpp: int, schedule: str = "1f1b") -> list[int]:
    if schedule in V_SHAPED:
        return [pp_rank, 2 * pp - 1 - pp_rank]
    return [pp_rank + i * pp for i in range(vpp)]


def stage_bounds(layers: int, stage: int, num_stages: int,
                 stage_layers: tuple[int, ...] | None = None) -> tuple[int, int]:
    """Layers [lo, hi) of `stage`: stageLayers' running sums, else the even split."""
    if stage_layers is not None:
        lo = sum(stage_layers[:stage])
        return lo, lo + stage_layers[stage]
    return layers * stage // num_stages, layers * (stage + 1) // num_stages


def split_stage(model: GPT, stage: int, num_stages: int,
                stage_layers: tuple[int, ...] | None = None) -> GPT:
    """A copy of the (meta) model holding only what `stage` computes."""
    part = copy.deepcopy(model)
    layers = part.spec.layers
    lo, hi = stage_bounds(layers, stage, num_stages, stage_layers)
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
               group, example_input: torch.Tensor,
               example_output: torch.Tensor | None = None) -> PipelineStage:
    """A pipeline stage. With example_output the stage's shapes are static: torch (≥ 2.6) then
    skips its metadata inference, which runs one stage's forward and backward on one rank at a
    time — a stage whose forward holds a collective over other ranks (the MoE dispatch
    all-to-all over ep) would wait there for ranks that never join (a hang)."""
    kwargs = {"group": group}
    param = inspect.signature(PipelineStage.__init__).parameters.get("input_args")
    if example_output is not None and param is not None:
        # Static metadata carries requires_grad: activations passed between stages need their
        # gradients sent back (token ids, the first stage's input, do not).
        grad = lambda t: t.requires_grad_(True) if t.is_floating_point() else t  # noqa: E731
        kwargs["input_args"] = grad(example_input)
        kwargs["output_args"] = grad(example_output)
    elif param is not None and param.default is inspect.Parameter.empty:  # torch 2.5: static shapes
        kwargs["input_args"] = example_input
    return PipelineStage(module, stage, num_stages, device, **kwargs)


def make_schedule(stages: list[PipelineStage], schedule: str, vpp: int, m: int,
                  loss_fn: Callable) -> object:
    """n_microbatches = m. The loss_fn already divides by m, so the schedule must not scale the
    gradients again (scale_grads=False where the argument exists; older torch never scales)."""
    if schedule == "1f1b" and vpp > 1:
        schedule = "interleaved"
    cls = schedule_class(schedule)
    arg = stages if schedule in MULTI else stages[0]
    kwargs = {"loss_fn": loss_fn}
    if "scale_grads" in inspect.signature(cls.__init__).parameters:
        kwargs["scale_grads"] = False
    return cls(arg, n_microbatches=m, **kwargs)


class TiedEmbeddingSync:
    """Sum the gradient of stage 0's embedding and stage S−1's head copy over each rank pair
    (in a V both are on pipeline rank 0: summed there, no group)."""

    def __init__(self, mesh, parts: list[GPT], v_shaped: bool = False):
        ranks = mesh.mesh  # (pp, dp, cp, tp) tensor of global ranks
        pp = ranks.shape[0]
        self.group = None
        self.parts = parts
        self.local = v_shaped
        if v_shaped:
            return
        me = dist.get_rank()
        first, last = ranks[0].reshape(-1), ranks[pp - 1].reshape(-1)  # every (dp, cp, tp)
        for a, b in zip(first.tolist(), last.tolist()):
            pair = [int(a), int(b)]
            g = dist.new_group(pair)  # every rank creates every group, in the same order
            if me in pair:
                self.group = g
        self.parts = parts

    @torch.no_grad()
    def sync(self) -> None:
        if self.local:
            grads = [local(h.weight.grad) for part in self.parts
                     for h in (part.embed.tok if part.embed is not None else None, part.output)
                     if h is not None and h.weight.grad is not None]
            if len(grads) == 2:
                total = grads[0] + grads[1]
                for g in grads:
                    g.copy_(total)
            return
        # looked up each time: FSDP swaps sharded/unsharded parameters on the module
        for part in self.parts:
            for holder in (part.embed.tok if part.embed is not None else None, part.output):
                if holder is not None and holder.weight.grad is not None:
                    dist.all_reduce(local(holder.weight.grad), group=self.group)
