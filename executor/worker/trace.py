"""The measured timeline of one step (PROTOCOL.md, `timeline` event).

Every rank runs the traced step under torch.profiler; the representative rank of each pipeline
stage (dp = 0, tp = 0, as the simulator's "one rank per stage") reports:
  - its compute spans: forward and backward of each (model chunk, micro-batch) and the optimizer
    step, as record_function ranges named `paraplan:<category>:<virtual stage>:<micro-batch>`
    (on CUDA their GPU projection, kineto's gpu_user_annotation; on CPU the host range);
  - its collectives: gloo's `gloo:*` ranges (CPU) or NCCL kernels (CUDA), with the stream they
    belong to (tp / pp / dp comm) from the process group each was issued on, which a dispatch
    mode (metrics.CommCounter with `streams`) logs in issue order;
  - on CUDA, `busy`: the union of the other (compute) kernels, so that exposed communication
    can be measured as communication time with no compute kernel running (the definition of
    Holistic Trace Analysis' comm/comp overlap).
Times are seconds from a barrier at the start of the step (each rank's own clock: the barrier
releases all ranks together, so stages line up within its latency, also across nodes).
"""
from __future__ import annotations

import socket
from collections import defaultdict, deque
from contextlib import contextmanager
from typing import Optional

import torch
import torch.distributed as dist
from torch.autograd.profiler import record_function
from torch.profiler import ProfilerActivity, profile

PREFIX = "paraplan:"
ANCHOR = PREFIX + "anchor"
COMPUTE = ("forward", "backward", "weight", "optimizer")  # weight: a split backward's W
_KIND = [  # profiler name (lower case, without "_") → collective kind, as metrics._KINDS names it
    ("allreduce", "all_reduce"), ("allgather", "all_gather"), ("reducescatter", "reduce_scatter"),
    ("broadcast", "broadcast"), ("sendrecv", "p2p"), ("send", "p2p"), ("recv", "p2p"),
    ("alltoall", "all_to_all"), ("barrier", "barrier"),
]


def collective_kind(name: str) -> Optional[str]:
    """`gloo:all_reduce`, `ncclDevKernel_AllReduce_Sum_bf16_RING_LL` → all_reduce; None if the
    event is not a collective."""
    low = name.lower()
    if not (low.startswith("gloo:") or "nccl" in low):
        return None
    flat = low.replace("_", "")
    for key, kind in _KIND:
        if key in flat:
            return kind
    return "other"


def _activity(e) -> str:
    """kineto's activity type (`kernel`, `gpu_user_annotation`, `user_annotation`, `cpu_op`);
    derived where torch < 2.6 lacks activity_type()."""
    f = getattr(e, "activity_type", None)
    if f is not None:
        return str(f())
    ua = getattr(e, "is_user_annotation", None)
    user = bool(ua()) if ua is not None else e.name().startswith(PREFIX)
    if "CPU" in str(e.device_type()):
        return "user_annotation" if user else "cpu_op"
    return "gpu_user_annotation" if user else "kernel"


def merge(intervals: list[tuple[float, float]], slack: float = 2e-6) -> list[list[float]]:
    """Union of intervals, joining those closer than `slack` seconds (kernel launch gaps)."""
    out: list[list[float]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1] + slack:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


class StepTrace:
    """Profile one step on this rank; `result()` is the timeline entry of a representative."""

    def __init__(self, device: torch.device, stage: int, streams: dict[str, str]):
        self.device, self.stage, self.streams = device, stage, streams
        self.issued: dict[str, deque] = defaultdict(deque)  # kind → streams, in issue order
        self.prof: Optional[profile] = None
        self.events: list[dict] = []
        self.busy: Optional[list[list[float]]] = None
        self.error: Optional[str] = None
        self.anchor_ns = 0  # the anchor on this host's clock (kineto's timestamps: Unix time, ns)

    @staticmethod
    @contextmanager
    def span(category: str, vstage: int, mb: int):
        with record_function(f"{PREFIX}{category}:{vstage}:{mb}"):
            yield

    def log_collective(self, kind: str, args: tuple) -> None:
        """Called by the dispatch mode (metrics.CommCounter) for each collective issued."""
        if kind == "barrier":
            return
        if kind in ("send", "recv"):
            kind, stream = "p2p", "pp comm"
        else:
            stream = self.streams.get(group_name_of(args, self.streams) or "", "comm")
        self.issued[kind].append(stream)

    def __enter__(self):
        acts = [ProfilerActivity.CPU]
        if self.device.type == "cuda":
            acts.append(ProfilerActivity.CUDA)
        self.prof = profile(activities=acts, record_shapes=False, profile_memory=False, with_stack=False)
        self.prof.__enter__()
        dist.barrier()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        with record_function(ANCHOR):
            pass
        return self

    def __exit__(self, *exc):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.prof.__exit__(*exc)
        if exc[0] is None:
            try:
                self._collect(self.prof.profiler.kineto_results.events())
            except Exception as e:  # noqa: BLE001 - a profiler of another torch version: report it
                self.error, self.events = f"{type(e).__name__}: {e}", []
        self.prof = None
        return False

    def _collect(self, raw) -> None:
        rows = [(e.name(), _activity(e), e.start_ns(), e.start_ns() + e.duration_ns()) for e in raw]
        t0 = min((s for name, _, s, _ in rows if name == ANCHOR), default=min(r[2] for r in rows))
        self.anchor_ns = t0
        sec = lambda ns: (ns - t0) / 1e9  # noqa: E731
        cuda = self.device.type == "cuda"
        host: dict[str, tuple] = {}
        gpu: dict[str, tuple] = {}
        comms, kernels = [], []
        for name, act, s, e in rows:
            if name.startswith(PREFIX):
                if name != ANCHOR:
                    (gpu if act == "gpu_user_annotation" else host)[name] = (sec(s), sec(e))
                continue
            kind = collective_kind(name)
            if kind == "barrier" or (kind is not None and e <= t0):
                continue  # the trace's own barrier (NCCL runs it as an all-reduce), before the anchor
            on_device = act == "kernel"
            if kind is not None and (on_device if cuda else name.lower().startswith("gloo:")):
                comms.append((sec(s), sec(e), kind))
            elif cuda and on_device:
                kernels.append((sec(s), sec(e)))
        spans = {**host, **gpu}  # on CUDA a span's GPU projection replaces its host range
        for name, (s, e) in spans.items():
            category, vstage, mb = name[len(PREFIX):].split(":")
            self.events.append({"stream": "compute", "category": category, "vstage": int(vstage),
                                "mb": int(mb), "start": s, "duration": e - s})
        last: dict[str, str] = {}
        for s, e, kind in sorted(comms):
            queue = self.issued.get(kind)
            stream = queue.popleft() if queue else last.get(kind, "pp comm" if kind == "p2p" else "comm")
            last[kind] = stream
            self.events.append({"stream": stream, "category": kind, "start": s, "duration": e - s})
        self.events.sort(key=lambda ev: ev["start"])
        if cuda:
            self.busy = merge(kernels)

    def result(self) -> dict:
        out = {"stage": self.stage, "rank": dist.get_rank(), "events": self.events,
               "host": socket.gethostname(), "anchorNs": self.anchor_ns}
        if self.busy is not None:
            out["busy"] = self.busy
        if self.error is not None:
            out["error"] = self.error
        return out


def align(stages: list[dict]) -> list[dict]:
    """One clock for the stages. Each stage's times start at its own anchor, taken right after
    the barrier; ranks on one host share that host's clock, so there every stage is re-based to
    the host's earliest anchor (the barrier's release as the first rank saw it; a rank the OS
    descheduled after the barrier no longer shifts its whole timeline). Hosts, whose clocks may
    differ, stay lined up by the barrier. Drops `anchorNs`."""
    first: dict[str, int] = {}
    for s in stages:
        first[s["host"]] = min(first.get(s["host"], s["anchorNs"]), s["anchorNs"])
    for s in stages:
        shift = (s.pop("anchorNs") - first[s["host"]]) / 1e9
        for e in s["events"]:
            e["start"] += shift
        for b in s.get("busy", []):
            b[0] += shift
            b[1] += shift
    return stages


def group_streams(mesh, tied_group=None, shard_group=None) -> dict[str, str]:
    """Process-group name → the stream its collectives belong to; `shard_group`: the dp·cp
    group the gradients are reduced over when context parallel (its dp reductions)."""
    out: dict[str, str] = {}
    for dim, stream in (("tp", "tp comm"), ("pp", "pp comm"), ("dp", "dp comm"), ("cp", "cp comm")):
        if dim in (mesh.mesh_dim_names or ()) and mesh[dim].size() > 1:
            out[mesh[dim].get_group().group_name] = stream
    if shard_group is not None and shard_group.group_name not in out:
        out[shard_group.group_name] = "dp comm"
    if tied_group is not None:
        out[tied_group.group_name] = "dp comm"  # embedding gradient sum, with the dp reductions
    return out


def group_name_of(args: tuple, known) -> Optional[str]:
    """The process group a c10d / functional collective was issued on: its ProcessGroup
    argument (c10d ops) or its group-name string among `known` (functional collectives also
    take strings such as the reduce op)."""
    for a in args:
        if isinstance(a, str) and a in known:
            return a
        if isinstance(a, torch.ScriptObject):
            try:
                return dist.ProcessGroup.unbox(a).group_name
            except Exception:  # noqa: BLE001 - a ReduceOp or other script object
                continue
    return None

