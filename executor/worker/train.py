"""Build the parallel model for this rank and run training steps.

One step, whatever the layout, processes the global batch B = dp · b · m (b = microBatch):
  without pp: m micro-batches one after the other, loss/m backward each (DDP syncs only on the
              last; FSDP2 reduce-scatters each, keeping gradients sharded as ZeRO-2/3 do);
  with pp:    the schedule runs n_microbatches = m through the stages (loss_fn = loss/m).
Then: DTensor gradients given their parameters' placements, dp gradient mean (DDP/FSDP do it in
backward; GradReplicator after; over the dp·cp ranks when context parallel splits the sequence,
context.py), tied-embedding sum
across the pipeline, gradient norm (reported), optimizer step.

The step's loss is the global-batch mean: each last-stage rank holds the mean over its dp slice
(Σ of its m micro-batch losses/m; tp ranks hold equal copies; cp ranks the means of equal-sized
sequence shards), so loss = Σ_world / (dp · cp · tp) with zeros on the other stages.
"""
from __future__ import annotations

import inspect
import math
from contextlib import nullcontext

import torch
import torch.distributed as dist
import torch.nn as nn

from . import data
from .model import build_meta_model, cross_entropy, materialize
from .execution import Execution
from .optim import Optimizer
from .parallel import (DDP, DTensor, GradReplicator, apply_ac, apply_ddp, apply_fsdp, apply_tp,
                       local)
from .context import ContextParallel, attach, ring_step
from .moe import EXPERT_PARAM, ep_groups, moe_layers
from .pipeline import (V_SHAPED, TiedEmbeddingSync, compile_allowed, make_schedule, make_stage,
                       split_stage, stage_ids)
from .spec import LaunchSpec


class Trainer:
    def __init__(self, spec: LaunchSpec, mesh, device: torch.device):
        self.spec, self.mesh, self.device = spec, mesh, device
        p, t = spec.plan, spec.training
        self.m = spec.micro_batches
        # this rank's (pp, dp, cp, tp)
        self.pp_rank, self.dp_rank, self.cp_rank, self.tp_rank = mesh.get_coordinate()
        # gradients are averaged over the dp·cp ranks that hold the same parameters
        self.shards = p.dp * p.cp
        self.shard_mesh = mesh["dp"] if p.cp == 1 else mesh["dp", "cp"]._flatten("dp_cp")
        self.dp_group = self.shard_mesh.get_group() if self.shards > 1 else None
        self.cp = (ContextParallel(p.cp, self.cp_rank, p.cp_split, p.cp_comm, mesh["cp"].get_group(),
                                   t.seq_len, device, mesh["cp"]) if p.cp > 1 else None)
        self.num_stages = p.pp * p.vpp

        # 0. pipeline split of the meta model, then real storage for what this rank holds (its
        #    E/ep experts: ep is innermost of dp, moe.py)
        self.moe = spec.model.moe is not None
        meta = build_meta_model(spec.model, t.vocab_padded, t.seq_len, p.ep, self.dp_rank % p.ep)
        ids = stage_ids(self.pp_rank, p.pp, p.vpp, p.schedule) if p.pp > 1 else [0]
        parts = [split_stage(meta, i, self.num_stages, p.stage_layers) if p.pp > 1 else meta for i in ids]
        self.parts = [materialize(part, device, t.seed) for part in parts]
        for part in self.parts:
            attach(part, self.cp)
        self.has_first = any(part.embed is not None for part in self.parts)
        self.has_last = any(part.output is not None for part in self.parts)
        self.ep_group = self.edp_group = None
        if p.ep > 1:
            self.ep_group, self.edp_group = ep_groups(p.pp, p.dp, p.tp, p.ep)
            for part in self.parts:
                for layer in moe_layers(part):
                    layer.ep_group = self.ep_group

        # (float8,) 1. tensor parallel, 2. activation checkpointing, (compile,) 3. data parallel
        # (compile before 2 under full recompute beside tp: Execution.compiles_before_ac)
        self.execution = Execution(spec, device)
        for part in self.parts:
            self.execution.before_tp(part)
            if p.tp > 1:
                apply_tp(part, mesh["tp"], p.sequence_parallel)
            compile_first = self.execution.compiles_before_ac()
            if compile_first:
                self.execution.compile_part(part)
            self.recompute_kind = apply_ac(part, p.recompute, p.recompute_layers)
            if not compile_first:
                self.execution.compile_part(part)
        self.runners: list[nn.Module] = list(self.parts)  # what forward is called on
        self.replicator = self.expert_replicator = None
        self.dp_kind = self._apply_dp() if self.shards > 1 else "none"
        self.tied_sync = (TiedEmbeddingSync(mesh, self.parts, p.schedule in V_SHAPED)
                          if p.pp > 1 and spec.model.tied else None)
        # Zero-bubble schedules refuse torch.compile'd stages: whoever compiles asks first.
        self.compile_allowed, self.eager_reason = compile_allowed(p.schedule) if p.pp > 1 else (True, "")
        self.optimizer = Optimizer(self.params(), t.lr, p.zero, self.shards, p.tp, self.dp_group,
                                   self.execution.choose_optimizer(self.params()))
        self.schedule = self._build_schedule(ids) if p.pp > 1 else None
        self.trace = None  # a trace.StepTrace while the traced step runs

    def span(self, category: str, vstage: int, mb: int):
        """A compute span of the measured timeline (trace.py), only while a step is traced."""
        return self.trace.span(category, vstage, mb) if self.trace is not None else nullcontext()

    def _traced(self, stage) -> None:
        """Wrap a pipeline stage's per-micro-batch forward and backward in timeline spans (the
        schedules call stage.forward_one_chunk(mb, …) and stage.backward_one_chunk(mb, …); the
        zero-bubble ones split the backward, its weight gradient in backward_weight_one_chunk)."""
        fwd, bwd = stage.forward_one_chunk, stage.backward_one_chunk
        weight = getattr(stage, "backward_weight_one_chunk", None)
        if weight is not None:
            def backward_weight_one_chunk(mb, *args, **kwargs):
                with self.span("weight", stage.stage_index, mb):
                    return weight(mb, *args, **kwargs)

            stage.backward_weight_one_chunk = backward_weight_one_chunk

        def forward_one_chunk(mb, *args, **kwargs):
            with self.span("forward", stage.stage_index, mb):
                return fwd(mb, *args, **kwargs)

        def backward_one_chunk(mb, *args, **kwargs):
            with self.span("backward", stage.stage_index, mb):
                return bwd(mb, *args, **kwargs)

        stage.forward_one_chunk, stage.backward_one_chunk = forward_one_chunk, backward_one_chunk

    def _apply_dp(self) -> str:
        """ZeRO 2/3: FSDP2; 0/1: DDP, or GradReplicator where DDP does not fit (parallel.py)."""
        p = self.spec.plan
        if p.zero >= 2:
            for part in self.parts:
                apply_fsdp(part, self.shard_mesh, p.zero, self.execution.mp_policy())
            mp = "+mp(param bf16, reduce fp32)" if self.execution.fsdp_mp else ""
            return f"fsdp2(reshard_after_forward={p.zero == 3}){mp}"
        if self.moe:
            # Mixtures of experts: the dense gradients averaged over dp; the experts' summed
            # over their edp replicas and divided by dp (moe.py). An expert no token chose on
            # some rank has no gradient there, which DDP's reducer does not allow.
            expert = [q for n, q in self.named_params() if EXPERT_PARAM in n]
            dense = [q for n, q in self.named_params() if EXPERT_PARAM not in n]
            self.replicator = GradReplicator(dense, self.dp_group, fill_missing=True)
            self.expert_replicator = GradReplicator(expert, self.edp_group, divisor=p.dp, fill_missing=True) \
                if p.ep > 1 else GradReplicator(expert, self.dp_group, fill_missing=True)
            kind = f"replicate(all-reduce; experts over edp, ep={p.ep})"
        elif p.tp == 1 and p.pp == 1:
            self.runners = [apply_ddp(part, self.dp_group, self.device) for part in self.parts]
            kind = "ddp"
        else:
            self.replicator = GradReplicator(self.params(), self.dp_group)
            kind = "replicate(all-reduce)"
        return kind + ("+ZeroRedundancyOptimizer" if p.zero == 1 else "")

    def _build_schedule(self, ids: list[int]):
        loss_fn = lambda logits, y: cross_entropy(logits, y) / self.m  # noqa: E731
        group = self.mesh["pp"].get_group()
        static = self.spec.plan.ep > 1  # the dispatch all-to-all: no shape inference (make_stage)
        stages = [make_stage(r, i, self.num_stages, self.device, group, self.example_input(i),
                             self.example_output(i) if static else None)
                  for r, i in zip(self.runners, ids)]
        for stage in stages:
            self._traced(stage)
        return make_schedule(stages, self.spec.plan.schedule, self.spec.plan.vpp, self.m, loss_fn)

    # ------------------------------------------------------------------ helpers
    def named_params(self) -> list[tuple[str, nn.Parameter]]:
        seen, out = set(), []
        for part in self.parts:
            for n, q in part.named_parameters():
                if id(q) not in seen:
                    seen.add(id(q))
                    out.append((n, q))
        return out

    def params(self) -> list[nn.Parameter]:
        seen, out = set(), []
        for part in self.parts:
            for q in part.parameters():
                if id(q) not in seen:
                    seen.add(id(q))
                    out.append(q)
        return out

    def autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()  # fp32 on CPU

    def example_input(self, stage: int) -> torch.Tensor:
        """A micro-batch as stage `stage` receives it: token ids (b, s) on stage 0, else the fp32
        residual stream (b, s, h), or (b, s/t, h) when sequence parallel splits it. Only used
        where PipelineStage needs static shapes (torch 2.5); later versions infer them."""
        p, t = self.spec.plan, self.spec.training
        if stage == 0:
            return torch.zeros(p.micro_batch, t.seq_len // p.cp, dtype=torch.long, device=self.device)
        s = t.seq_len // p.cp  # this cp rank's tokens
        s = s // p.tp if p.sequence_parallel else s
        return torch.zeros(p.micro_batch, s, self.spec.model.hidden, device=self.device)

    def example_output(self, stage: int) -> torch.Tensor:
        """What stage `stage` returns for one micro-batch: the next stage's input, or on the last
        stage the logits (b, s, padded vocabulary), bf16 under CUDA autocast, fp32 on CPU."""
        if stage < self.num_stages - 1:
            return self.example_input(stage + 1)
        p, t = self.spec.plan, self.spec.training
        dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32
        return torch.zeros(p.micro_batch, t.seq_len, t.vocab_padded, dtype=dtype, device=self.device)

    @property
    def schedule_name(self) -> str:
        return type(self.schedule).__name__ if self.schedule is not None else "none"

    # ------------------------------------------------------------------ one step
    def step(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward/backward over the global batch and an optimizer step. Returns this rank's
        shares of the loss and of ‖g‖², to be summed over the world by reduce_metrics."""
        p, t = self.spec.plan, self.spec.training
        x, y = data.local_batch(t.seed, step, t.global_batch, t.seq_len, self.spec.model.vocab,
                                self.dp_rank, p.dp, self.device)
        if self.cp is not None:  # this cp rank's tokens of every sequence
            x, y = self.cp.shard(x), self.cp.shard(y)
        with ring_step(self.cp):  # torch's ring attention (cpComm ring, CUDA) spans the backward
            loss = self._forward_backward(x, y)
        self.align_grads()
        if self.replicator is not None:
            self.replicator.all_reduce()
        if self.expert_replicator is not None:
            self.expert_replicator.all_reduce()
        if self.tied_sync is not None:
            self.tied_sync.sync()
        with self.span("optimizer", self.pp_rank, 0):
            norm = self.grad_norm_sq()
            self.optimizer.step()
            self.optimizer.zero_grad()
        return loss.float(), norm

    def _forward_backward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The m micro-batches (one after the other, or through the pipeline schedule);
        returns this rank's Σ of micro-batch losses / m."""
        loss = torch.zeros((), device=self.device)
        if self.schedule is None:
            runner = self.runners[0]
            for i, (xb, yb) in enumerate(data.micro_batches(x, y, self.m)):
                sync = i == self.m - 1
                ctx = runner.no_sync() if isinstance(runner, DDP) and not sync else nullcontext()
                with ctx:
                    with self.span("forward", 0, i):
                        with self.autocast():
                            logits = runner(xb)
                        mb_loss = cross_entropy(logits, yb) / self.m
                    with self.span("backward", 0, i):
                        mb_loss.backward()
                loss += mb_loss.detach()
        else:
            losses: list[torch.Tensor] = []
            args = (x,) if self.has_first else ()
            kwargs = {"target": y, "losses": losses} if self.has_last else {}
            if self.has_last and _takes_return_outputs(self.schedule):
                # Without it the last stage keeps every micro-batch's logits to the step's end
                # (output_chunks, pytorch/pytorch#159251); torch >= 2.10 can drop them
                # (profiles/engines/paraplan.json activations.keptOutputBytes).
                kwargs["return_outputs"] = False
            with self.autocast():
                self.schedule.step(*args, **kwargs)
            if self.has_last:
                loss = torch.stack([l.detach().float() for l in losses]).sum()
        return loss

    @torch.no_grad()
    def align_grads(self) -> None:
        """Give every DTensor gradient its parameter's placements. DTensor autograd may leave
        them otherwise: sequence parallel leaves the replicated norm weights' gradients as
        Partial sums over the tp ranks' sequence shards (all-reduced here), and the
        vocab-parallel embedding's gradient comes back Replicate (sliced here). The optimizer,
        the gradient norm and the tied-embedding sum then all see whole, matching shards."""
        for q in self.params():
            g = q.grad
            if isinstance(g, DTensor) and isinstance(q, DTensor) and g.placements != q.placements:
                q.grad = g.redistribute(q.device_mesh, q.placements)

    def grad_norm_sq(self) -> torch.Tensor:
        """This rank's share of ‖g‖²: each local shard's Σg² weighted so that summing over the
        world counts every element once (a shard replicated over k ranks of the dp×cp×tp block
        contributes 1/k each); the pipeline's tied head copy is left out."""
        p = self.spec.plan
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        seen = set()
        for part in self.parts:
            for name, q in part.named_parameters():
                if id(q) in seen or q.grad is None:
                    continue
                seen.add(id(q))
                if self.tied_sync is not None and name.endswith("output.weight"):
                    continue
                g = q.grad
                shards = 1
                if isinstance(g, DTensor):
                    shards = math.prod(  # Shard and _StridedShard (FSDP over TP) alike
                        g.device_mesh.size(i) for i, pl in enumerate(g.placements)
                        if not (pl.is_replicate() or pl.is_partial()))
                # an expert's gradient lives on dp/ep ranks (its edp replicas), not dp; the
                # others on the dp·cp ranks
                replicas = p.dp // p.ep if EXPERT_PARAM in name else self.shards
                total += local(g).double().pow(2).sum() * shards / (replicas * p.tp)
        return total


def reduce_metrics(loss: torch.Tensor, norm_sq: torch.Tensor, dp: int, tp: int, cp: int = 1) -> tuple[float, float]:
    """(global mean loss, global gradient norm) from the per-rank shares, one all-reduce."""
    buf = torch.stack([loss.double(), norm_sq.double()])
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(buf)
    return float(buf[0]) / (dp * tp * cp), math.sqrt(float(buf[1]))


def _takes_return_outputs(schedule: object) -> bool:
    """Whether this torch's schedule.step has return_outputs (torch >= 2.10, pytorch#165822)."""
    step = getattr(schedule, "step", None)
    if step is None:
        return False
    try:
        return "return_outputs" in inspect.signature(step).parameters
    except (TypeError, ValueError):
        return False
