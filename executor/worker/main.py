"""Entry point: `torchrun ... -m executor.worker --spec launch.json` (PROTOCOL.md).

Runs training.steps steps of the plan on this rank and, on rank 0, prints the events. Step 1 is
the warm-up; step 2 is instrumented on every rank: FLOPs (flops.FlopCounter), collectives
(metrics.CommCounter) and, on CPU, memory (metrics.MemoryMeter); both are left out of the mean
step time (the instrumentation costs Python work per op). Any exception prints an error event on stderr and exits non-zero
(torch's elastic `record` writes the traceback for torchrun's summary).
"""
from __future__ import annotations

import argparse
import os
import socket
import time
from contextlib import ExitStack

import torch
import torch.distributed as dist
from torch.distributed.elastic.multiprocessing.errors import record

from .agent_watch import watch_agent
from .compile import eager_context
from .flops import FlopCounter
from .metrics import CommCounter, MemoryMeter, emit, emit_error, emit_phase
from .model import build_meta_model
from .pipeline import ZB_SCHEDULES
from .spec import LaunchSpec, load_spec
from .startup_watch import StartupWatch, watch_startup
from .trace import StepTrace, align, group_streams
from .train import Trainer, reduce_metrics

try:
    from torch.distributed.device_mesh import init_device_mesh
except ImportError:  # pragma: no cover
    from torch.distributed._tensor import init_device_mesh


def _barrier(device: torch.device) -> None:
    """All ranks meet (NCCL: on this rank's device, as torch asks of a barrier)."""
    if dist.is_initialized() and dist.get_world_size() > 1:
        if device.type == "cuda":
            dist.barrier(device_ids=[device.index])
        else:
            dist.barrier()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def init_distributed(spec: LaunchSpec):
    """Process group (gloo on CPU, nccl on CUDA) and the ("pp", "dp", "cp", "tp") mesh (tp
    innermost, then cp: planner/layout/groups.ts rank = t + tp·(c + cp·(d + dp·p))). Without
    torchrun (plain `python -m executor.worker`) this is a world of one."""
    if "RANK" not in os.environ:
        os.environ.update(RANK="0", LOCAL_RANK="0", WORLD_SIZE="1", MASTER_ADDR="127.0.0.1",
                          MASTER_PORT=str(_free_port()))
    if spec.device == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
        dist.init_process_group("nccl")
    else:
        device = torch.device("cpu")
        dist.init_process_group("gloo")
    world = dist.get_world_size()
    if world != spec.world:
        raise ValueError(f"world size {world} != tp·pp·dp·cp = {spec.world} of the plan")
    p = spec.plan
    mesh = init_device_mesh(device.type, (p.pp, p.dp, p.cp, p.tp), mesh_dim_names=("pp", "dp", "cp", "tp"))
    return device, mesh


def _parameter_count(spec: LaunchSpec) -> int:
    meta = build_meta_model(spec.model, spec.training.vocab_padded, spec.training.seq_len)
    return sum(p.numel() for p in meta.parameters())  # unique (tied counted once)


def _mean(xs: list[float]):
    return sum(xs) / len(xs) if xs else None


def measured_step(steps: int) -> int:
    """The instrumented step: 2, the first without one-time work (pipeline shape inference,
    lazy optimizer states, FSDP lazy init), or 1 when it is the only step."""
    return 2 if steps >= 2 else 1


def traced_step(steps: int) -> int | None:
    """The step whose timeline is recorded (trace.py): the last, when at least one step is left
    between it and the instrumented step; none with fewer than 4 steps."""
    return steps if steps >= 4 else None


def timed_steps(steps: int) -> list[int]:
    """Steps averaged into stepTime: all but step 1 (warm-up), the instrumented step and the
    traced step, as long as some step is left (then the instrumented one, then step 1)."""
    probe = measured_step(steps)
    kept = [k for k in range(1, steps + 1) if k not in (1, probe, traced_step(steps))]
    return kept or [probe]


def _phase(spec: LaunchSpec, watch: StartupWatch, rank: int, phase: str) -> None:
    """Report the phase (executor/PROTOCOL.md `phase`) to the launcher and the start-up watch; a
    test's faultInjection `hang` stops this rank there for good, as a rank stuck before its first
    step would."""
    emit_phase(rank, phase)
    watch.phase = phase
    if spec.fault is not None and spec.fault.hang == phase and spec.fault.rank == rank:
        while True:
            time.sleep(60)


def run(spec: LaunchSpec) -> None:
    rank = int(os.environ.get("RANK", "0"))
    watch = watch_startup(rank, spec.startup_timeout)  # until the first step has ended
    _phase(spec, watch, rank, "started")
    device, mesh = init_distributed(spec)
    rank = dist.get_rank()
    _phase(spec, watch, rank, "joined")
    p, t = spec.plan, spec.training
    torch.manual_seed(t.seed)
    trainer = Trainer(spec, mesh, device)
    _phase(spec, watch, rank, "built")
    if rank == 0:
        emit({"event": "start", "world": dist.get_world_size(),
              "mesh": {"pp": p.pp, "dp": p.dp, "cp": p.cp, "tp": p.tp}, "torch": torch.__version__,
              "device": device.type, "backend": dist.get_backend(),
              "microBatches": spec.micro_batches, "schedule": trainer.schedule_name,
              "dataParallel": trainer.dp_kind, "recompute": p.recompute,
              "parameters": _parameter_count(spec),
              "execution": trainer.execution.start_info()})

    tokens = t.global_batch * t.seq_len
    meter = MemoryMeter(device)
    if p.pp > 1 and p.schedule in ZB_SCHEDULES:
        # MemTracker's module hooks (register_multi_grad_hook) raise under autograd.grad, which the
        # split backward's input-gradient pass uses (torch.distributed.pipelining._backward).
        meter.disable("MemTracker cannot follow a backward split into input and weight gradients")
    probe, traced = measured_step(t.steps), traced_step(t.steps)
    tied = trainer.tied_sync.group if trainer.tied_sync is not None else None
    trace = None
    times, losses, norms = [], [], []
    flops = 0
    comms: dict = {}
    timed = timed_steps(t.steps)
    for step in range(1, t.steps + 1):
        trainer.execution.before_step(step, timed)
        if spec.fault is not None and spec.fault.rank == rank and spec.fault.step == step:
            raise RuntimeError(f"fault injection: rank {rank} at step {step}")
        with ExitStack() as stack:
            if trainer.execution.compiled and step in (probe, traced):
                stack.enter_context(eager_context())  # the counters' dispatch modes need eager
            if step == probe:  # memory (CPU tracker), FLOPs and collectives of one step
                stack.enter_context(meter.track(trainer.parts, trainer.optimizer.states_holder))
                flop_counter = stack.enter_context(FlopCounter())
                comm_counter = stack.enter_context(CommCounter())
                stack.enter_context(trainer.execution.sdpa_recorder())
            if step == traced:  # the measured timeline (starts with a barrier)
                trainer.trace = trace = StepTrace(device, trainer.pp_rank,
                                                  group_streams(mesh, tied, trainer.dp_group))
                stack.enter_context(CommCounter(on_collective=trace.log_collective))
                stack.enter_context(trace)
            start = time.perf_counter()
            loss_part, norm_part = trainer.step(step)
        trainer.trace = None
        loss, norm = reduce_metrics(loss_part, norm_part, p.dp, p.tp, p.cp)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        elapsed = time.perf_counter() - start
        trainer.execution.after_step(step, timed)
        if step == probe:
            trainer.execution.settle_sdpa()
            flops = int(flop_counter.get_total_flops())
            comms = comm_counter.result()
        times.append(elapsed)
        losses.append(loss)
        norms.append(norm)
        watch.done()
        if rank == 0:
            emit({"event": "step", "step": step, "loss": loss, "stepTime": elapsed,
                  "tokensPerSecond": tokens / elapsed, "gradNorm": norm})
        # No rank starts the next step before rank 0 has written this one's line: a rank that
        # fails as the next step starts gets every rank stopped by torchrun, and on a loaded
        # machine that stop could come before rank 0's write — a finished step lost from the
        # metrics. Outside the timed step.
        _barrier(device)

    peak, breakdown = meter.peak()
    if trainer.execution.timed_peak is not None:  # compiled on CUDA: the timed steps' peak
        peak, meter.source = trainer.execution.timed_peak, "cuda.max_memory_allocated (timed steps)"
    gathered: list = [None] * dist.get_world_size()
    representative = trainer.dp_rank == 0 and trainer.cp_rank == 0 and trainer.tp_rank == 0  # one rank per stage
    dist.all_gather_object(gathered, {"flops": flops, "comms": comms, "peak": peak,
                                      "breakdown": breakdown,
                                      "timeline": trace.result() if trace and representative else None})
    if rank != 0:
        return
    if traced is not None:
        emit({"event": "timeline", "step": traced, "pp": p.pp, "vpp": p.vpp,
              "microBatches": spec.micro_batches, "schedule": trainer.schedule_name,
              "stages": align(sorted((g["timeline"] for g in gathered if g["timeline"]),
                                     key=lambda s: s["stage"]))})
    total_comms: dict = {}
    for g in gathered:
        for kind, c in g["comms"].items():
            acc = total_comms.setdefault(kind, {"count": 0, "bytes": 0})
            acc["count"] += c["count"]
            acc["bytes"] += c["bytes"]
    peaks = [g["peak"] for g in gathered]
    top = max(range(len(peaks)), key=lambda r: -1 if peaks[r] is None else peaks[r])
    step_time = _mean([times[k - 1] for k in timed])
    execution = trainer.execution.summary(times, [1] if 1 not in timed else [], step_time)
    emit({"event": "summary", "measured": {
        "stepTime": step_time,
        "tokensPerSecond": tokens / step_time if step_time else None,
        "stepTimes": times,
        "timedSteps": timed,
        "measuredStep": measured_step(t.steps),
        "peakMemory": peaks[top],
        "peakMemoryRank": top,
        "peakMemorySource": meter.source if meter.error is None else f"none ({meter.error})",
        "peakMemoryBreakdown": gathered[top]["breakdown"],
        "flopsPerStep": sum(g["flops"] for g in gathered),
        "mfu": None,
        "loss": losses,
        "gradNorm": norms,
        "comms": total_comms,
        # why the stages run eager (zero-bubble schedules refuse torch.compile'd stages)
        "notes": [trainer.eager_reason] if trainer.eager_reason else [],
        "compileTime": execution["compileTime"],
        "execution": execution,
    }})


@record
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m executor.worker")
    parser.add_argument("--spec", required=True, help="launch spec JSON (executor/PROTOCOL.md)")
    args = parser.parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))
    watch_agent(rank)
    try:
        run(load_spec(args.spec))
    except BaseException as exc:
        if not isinstance(exc, (SystemExit, KeyboardInterrupt)):
            emit_error(rank, exc)
        raise
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
