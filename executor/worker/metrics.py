"""Events (PROTOCOL.md), collective counting and peak-memory measurement.

Collectives: CommCounter, a CommDebugMode whose dispatch counts, per kind, the calls and the
message bytes M of each call as formulas.md defines M: all-reduce the buffer, all-gather the
gathered output, reduce-scatter the input, broadcast/send/recv the tensor. Like CommDebugMode it
lets DTensor desugar into functional collectives before it looks; unlike it, it also counts
point-to-point send/recv (pipeline activations) and leaves out the per-module tracker.
Collectives issued from C++ through the dispatcher (DDP's reducer) are seen too.

Memory: on CUDA torch.cuda.max_memory_allocated; on CPU the MemTracker of
torch.distributed._tools (parameters, gradients, optimizer states, activations, temporaries),
lightly subclassed so it accepts several forwards per step.
"""
from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from contextlib import nullcontext
from typing import Any, Optional

import torch
from torch.utils._python_dispatch import TorchDispatchMode

try:
    from torch.distributed.tensor import DTensor
    from torch.distributed.tensor.debug import CommDebugMode
except ImportError:  # pragma: no cover - torch < 2.5
    from torch.distributed._tensor import DTensor
    from torch.distributed._tensor.debug import CommDebugMode

EVENT_PREFIX = "PARAPLAN_EVENT "


def write_line(text: str, stream=None) -> None:
    """One line in one write: under PYTHONUNBUFFERED (executor/launch.ts) print() writes the text
    and its newline apart, and another rank's line sharing the pipe can land between them."""
    stream = stream or sys.stderr
    stream.write(text + "\n")
    stream.flush()


def emit(event: dict[str, Any], stream=None) -> None:
    stream = stream or sys.stdout
    stream.write(EVENT_PREFIX + json.dumps(event, separators=(",", ":")) + "\n")
    stream.flush()


# A collective that failed because another rank is gone (gloo's TCP pairs, NCCL's abort): the
# symptom of that rank's death, not a cause of its own.
_PEER_LOST = re.compile(r"Connection (reset|closed) by peer|Broken pipe|remote process exit|"
                        r"communicator was aborted|NCCL communicator .* aborted|peer .* (closed|died)", re.I)


def emit_phase(rank: int, phase: str) -> None:
    """Where a rank is before its first step (executor/PROTOCOL.md `phase`): "started" (the
    process runs), "joined" (its process group formed), "built" (its model and optimizer are
    built). Every rank sends them, on stderr as errors are, so that a run stuck before its first
    step names the ranks behind."""
    emit({"event": "phase", "rank": rank, "phase": phase}, sys.stderr)


# torch's CPU allocator out of host memory (c10 alloc_cpu.cpp): "DefaultCPUAllocator: can't
# allocate memory: you tried to allocate N bytes. Error code 12 (Cannot allocate memory)", a plain
# RuntimeError where CUDA raises torch.OutOfMemoryError.
_CPU_OOM = re.compile(r"DefaultCPUAllocator: can't allocate memory")


def emit_error(rank: int, exc: BaseException) -> None:
    oom = getattr(torch.cuda, "OutOfMemoryError", None)
    message = f"{type(exc).__name__}: {exc}"
    kind = ("oom" if (oom is not None and isinstance(exc, oom))
            or (isinstance(exc, RuntimeError) and _CPU_OOM.search(str(exc)))
            else "peer-lost" if isinstance(exc, RuntimeError) and _PEER_LOST.search(str(exc)) else "exception")
    emit({"event": "error", "rank": rank, "kind": kind, "message": message[:2000]}, sys.stderr)


# ---------------------------------------------------------------- collectives

_COMM_NAMESPACES = {"c10d", "_c10d_functional", "c10d_functional", "_c10d_functional_autograd"}
_KINDS = {
    "allreduce_": "all_reduce", "allreduce_coalesced_": "all_reduce", "all_reduce": "all_reduce",
    "all_reduce_": "all_reduce", "all_reduce_coalesced": "all_reduce",
    "all_reduce_coalesced_": "all_reduce",
    "_allgather_base_": "all_gather", "allgather_": "all_gather", "allgather_coalesced_": "all_gather",
    "allgather_into_tensor_coalesced_": "all_gather", "all_gather_into_tensor": "all_gather",
    "all_gather_into_tensor_out": "all_gather", "all_gather_into_tensor_coalesced": "all_gather",
    "_reduce_scatter_base_": "reduce_scatter", "reduce_scatter_": "reduce_scatter",
    "reduce_scatter_tensor_coalesced_": "reduce_scatter", "reduce_scatter_tensor": "reduce_scatter",
    "reduce_scatter_tensor_coalesced": "reduce_scatter",
    "broadcast_": "broadcast", "broadcast": "broadcast",
    "alltoall_": "all_to_all", "alltoall_base_": "all_to_all", "all_to_all_single": "all_to_all",
    "send": "send", "recv_": "recv", "recv_any_source_": "recv",
    "gather_": "gather", "scatter_": "scatter", "reduce_": "reduce", "barrier": "barrier",
}
_GATHER_BY_GROUP_SIZE = {"all_gather_into_tensor", "all_gather_into_tensor_coalesced"}


def _nbytes(x: Any) -> int:
    if isinstance(x, torch.Tensor):
        return x.numel() * x.element_size()
    if isinstance(x, (list, tuple)):
        return sum(_nbytes(i) for i in x)
    return 0


def message_bytes(name: str, args: tuple) -> int:
    if name in _GATHER_BY_GROUP_SIZE:  # functional all-gather: (input, group_size, group)
        return _nbytes(args[0]) * int(args[1])
    first = _nbytes(args[0]) if args else 0
    second = _nbytes(args[1]) if len(args) > 1 else 0
    return max(first, second)  # (output, input) pairs: the larger is the full message


class CommCounter(CommDebugMode):
    """CommDebugMode's collective counting, plus message bytes and point-to-point ops.

    Its per-module tracker is left out: it registers a new forward hook each time a module runs,
    so a second forward of the same module (the next micro-batch) corrupts its parent stack.
    As in CommDebugMode, DTensor ops return NotImplemented so that DTensor desugars them into
    the functional collectives we then count.
    """

    def __init__(self, on_collective=None):
        super().__init__()
        self.on_collective = on_collective  # (kind, args) for each collective: trace.StepTrace
        self.counts: dict[str, int] = defaultdict(int)
        self.bytes: dict[str, int] = defaultdict(int)

    def __enter__(self):
        self.comm_counts.clear()
        TorchDispatchMode.__enter__(self)
        return self

    def __exit__(self, *args):
        return TorchDispatchMode.__exit__(self, *args)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if isinstance(func, torch._ops.HigherOrderOperator):
            return func(*args, **kwargs)
        if any(isinstance(t, type) and issubclass(t, DTensor) for t in types):
            return NotImplemented
        out = func(*args, **kwargs)
        if getattr(func, "namespace", None) in _COMM_NAMESPACES:
            name = func._overloadpacket.__name__
            kind = _KINDS.get(name)
            if kind is not None:
                self.comm_counts[func._overloadpacket] += 1
                self.counts[kind] += 1
                self.bytes[kind] += message_bytes(name, args)
                if self.on_collective is not None:
                    self.on_collective(kind, args)
        return out

    def result(self) -> dict[str, dict[str, int]]:
        return {k: {"count": self.counts[k], "bytes": self.bytes[k]} for k in sorted(self.counts)}


# ---------------------------------------------------------------- memory

def _mem_tracker_class():
    """MemTracker that lets a root module run forward again before its stats are reset.

    Stock MemTracker raises on a root module's second forward ("multiple iterative calls"),
    but a step runs m micro-batches through the model, and a pipeline schedule interleaves
    forwards and backwards of one stage module. Module-level attribution is all that the check
    protects; the global peak (what we report) is counted by the dispatch mode regardless. So a
    root module's stats restart at each forward, and per-module peaks are not kept at all.
    """
    from torch.distributed._tools.mem_tracker import MemTracker

    class StepMemTracker(MemTracker):
        def _update_peak_stats(self, peak_state) -> None:
            # After every op. Stock MemTracker also walks every tracked module to update its
            # local peak (the dominant cost, ~4x a step on CPU); only the global peak is kept.
            snaps = getattr(self, "_curr_mem_snap", None)
            if snaps is None or not hasattr(self, "_peak_mem_snap"):  # other torch versions
                return super()._update_peak_stats(peak_state)
            for dev, snap in snaps.items():
                if self._peak_mem.get(dev, 0) < snap["Total"]:
                    self._peak_mem[dev] = snap["Total"]
                    self._peak_mem_snap[dev] = dict(snap)

        def _pre_fw_hook(self, module, inputs):
            tracker = self._mod_tracker
            if module in self.memory_tracking and not tracker.is_bw:
                name = tracker.get_known_fqn(module) if hasattr(tracker, "get_known_fqn") else None
                if set(tracker.parents) - {name} == {"Global"}:  # a root module, again
                    del self.memory_tracking[module]
            return super()._pre_fw_hook(module, inputs)

    return StepMemTracker


class MemoryMeter:
    """Peak bytes allocated on this rank in steady state.

    CUDA: torch.cuda.max_memory_allocated over the whole run (no overhead).
    CPU: a MemTracker over the instrumented step (step 2: the first that starts with optimizer
    states allocated), `breakdown` splitting the peak into Parameter, Buffer, Gradient,
    Optstate, Activation, Temp.
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.tracker = None
        self.source = "cuda.max_memory_allocated" if device.type == "cuda" else "MemTracker"
        self.error: Optional[str] = None
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)

    def disable(self, reason: str) -> None:
        """No CPU tracker (the summary says why); CUDA's counters are unaffected."""
        if self.device.type != "cuda":
            self.source, self.error = "none", reason

    def track(self, modules: list[torch.nn.Module], optimizer):
        if self.device.type == "cuda" or self.error is not None:
            return nullcontext()
        try:
            self.tracker = _mem_tracker_class()()
            self.tracker.track_external(*modules, optimizer)
            return self.tracker
        except Exception as e:  # noqa: BLE001 - report in the summary, train on
            self.tracker, self.source, self.error = None, "none", f"{type(e).__name__}: {e}"
            return nullcontext()

    def peak(self) -> tuple[Optional[int], dict[str, int]]:
        if self.device.type == "cuda":
            return int(torch.cuda.max_memory_allocated(self.device)), {}
        if self.tracker is None:
            return None, {}
        snap = self.tracker.get_tracker_snapshot("peak")
        per_device = snap.get(self.device) or next(iter(snap.values()), {})
        breakdown = {str(getattr(k, "value", k)): int(v) for k, v in per_device.items()}
        return breakdown.get("Total"), breakdown
