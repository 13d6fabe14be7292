"""Shared by the profiler's parts: events on stdout, timing of a callable, devices."""
from __future__ import annotations

import json
import math
import statistics
import sys
import time
from typing import Callable

import torch

PREFIX = "PARAPLAN_PROFILE "


def _line(text: str, stream) -> None:
    """The line and its newline in one write: every rank shares torchrun's pipe, unbuffered, and
    print() writes the two apart, so another rank's line could land between them."""
    stream.write(text + "\n")
    stream.flush()


def emit(event: str, **fields) -> None:
    """One event line on stdout (read by src/profile/events.ts)."""
    _line(PREFIX + json.dumps({"event": event, **fields}), sys.stdout)


def emit_error(message: str, rank: int | None = None) -> None:
    _line(PREFIX + json.dumps({"event": "error", "rank": rank, "message": message}), sys.stderr)


class Progress:
    """Progress events for one phase: done/total, throttled to about 10 per second."""

    def __init__(self, phase: str, total: int, enabled: bool = True):
        self.phase, self.total, self.done, self.enabled = phase, total, 0, enabled
        self.last = 0.0

    def step(self, label: str = "") -> None:
        self.done += 1
        now = time.monotonic()
        if self.enabled and (now - self.last > 0.1 or self.done == self.total):
            emit("progress", phase=self.phase, done=self.done, total=self.total, label=label)
            self.last = now


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(
    fn: Callable[[], object],
    device: torch.device,
    target_s: float,
    max_iters: int = 200,
    repeats: int = 3,
    warmup: int = 2,
    samples: list | None = None,
) -> float:
    """Seconds per call of `fn`: `warmup` untimed calls, then `repeats` batches of enough calls to
    last about `target_s` each (at least one, at most `max_iters`); the median batch's mean.
    CUDA work is timed with events around the batch, CPU work with perf_counter. `samples`, when
    given, receives each batch's mean (their spread is the measurement's repeatability)."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    once = max(time.perf_counter() - start, 1e-7)
    iters = max(1, min(max_iters, math.ceil(target_s / once)))
    per_call = []
    for _ in range(repeats):
        if device.type == "cuda":
            begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            begin.record()
            for _ in range(iters):
                fn()
            end.record()
            end.synchronize()
            per_call.append(begin.elapsed_time(end) / 1000.0 / iters)
        else:
            t0 = time.perf_counter()
            for _ in range(iters):
                fn()
            per_call.append((time.perf_counter() - t0) / iters)
    if samples is not None:
        samples.extend(per_call)
    return statistics.median(per_call)


def spread(samples: list[float]) -> float:
    """(max − min) / median of repeated timings: 0 on a quiet machine; 0.2 and more says the
    machine was busy or the clock moved while it was measured."""
    return (max(samples) - min(samples)) / statistics.median(samples) if samples else 0.0


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    if name == "cuda":
        if not torch.cuda.is_available():
            raise RuntimeError("--device cuda: torch sees no CUDA device (CPU-only build or no driver)")
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def versions(device: torch.device) -> dict:
    """What the profile's `versions` records, plus the device's name and capability."""
    info = {
        "torch": torch.__version__.split("+")[0],
        "python": sys.version.split()[0],
        "cuda": torch.version.cuda,
        "threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(deviceName=props.name, capability=list(torch.cuda.get_device_capability(device)),
                    memory=props.total_memory, multiprocessors=props.multi_processor_count)
    return info
