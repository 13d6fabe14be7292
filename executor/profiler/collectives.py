"""Collectives under torchrun: all-reduce, all-gather, reduce-scatter over the groups of the first
n ranks (n = 2, 4, 8, … and the world: tensor parallelism places its groups on neighbouring ranks,
Narayanan et al. 2021 §3.3), and send/recv ping-pong between rank 0 and rank 1 (and rank 0 and
the last rank, which may sit behind another link), each over a range of message sizes.

Size M is the full message as nccl-tests counts it (PERFORMANCE.md): the buffer all-reduced, the
gathered output of all-gather, the input of reduce-scatter, the buffer sent. Each rank times its
own calls; the slowest rank of the group is reported (a collective ends when its last rank does).
Iteration counts depend on the size only, so every rank runs the same sequence of calls.
"""
from __future__ import annotations

import os
import time
import warnings

import torch
import torch.distributed as dist

from .common import Progress, emit, pick_device, synchronize

OPS = ("all_reduce", "all_gather", "reduce_scatter")


def group_sizes(world: int) -> list[int]:
    sizes, n = set(), 2
    while n <= world:
        sizes.add(n)
        n *= 2
    if world >= 2:
        sizes.add(world)
    return sorted(sizes)


def iterations(size: int, cuda: bool, quick: bool) -> int:
    """Enough calls to move ~2 GiB (GPU) or ~64 MiB (CPU) per measurement, within bounds."""
    budget = (1 << 31) if cuda else (1 << 26)
    lo, hi = (3, 20) if quick else (5, 50)
    if not cuda:
        lo, hi = (2, 10) if quick else (3, 20)
    return max(lo, min(hi, budget // max(size, 1)))


def make_call(op: str, size: int, n: int, group, device: torch.device):
    """A closure running one collective of `size` bytes (float32 elements) over `group`."""
    elems = max(n, size // 4 // n * n)  # divisible by n
    if op == "all_reduce":
        buf = torch.ones(elems, device=device)
        return lambda: dist.all_reduce(buf, group=group)
    if op == "all_gather":
        out = torch.empty(elems, device=device)
        inp = torch.ones(elems // n, device=device)
        if hasattr(dist, "all_gather_into_tensor"):
            return lambda: dist.all_gather_into_tensor(out, inp, group=group)
        parts = list(out.chunk(n))
        return lambda: dist.all_gather(parts, inp, group=group)
    inp = torch.ones(elems, device=device)
    out = torch.empty(elems // n, device=device)
    return lambda: dist.reduce_scatter_tensor(out, inp, group=group)


def line_up(group, device: torch.device) -> None:
    """All ranks of `group` here, their devices idle: a one-element all-reduce (rather than
    dist.barrier, which on NCCL must guess each rank's device for a subgroup)."""
    flag = torch.zeros(1, device=device)
    dist.all_reduce(flag, group=group)
    synchronize(device)


def timed(call, iters: int, group, device: torch.device) -> float:
    """Seconds per call on the slowest rank of `group` (2 warm-up calls, then `iters` timed)."""
    for _ in range(2):
        call()
    synchronize(device)
    line_up(group, device)
    start = time.perf_counter()
    for _ in range(iters):
        call()
    synchronize(device)
    mine = torch.tensor([(time.perf_counter() - start) / iters], device=device, dtype=torch.float64)
    dist.all_reduce(mine, op=dist.ReduceOp.MAX, group=group)
    return float(mine.item())


def ping_pong(peer_a: int, peer_b: int, size: int, iters: int, device: torch.device) -> float:
    """One-way seconds of a send of `size` bytes between two ranks: half a round trip."""
    rank = dist.get_rank()
    buf = torch.ones(max(1, size // 4), device=device)
    other = peer_b if rank == peer_a else peer_a

    def trip():
        if rank == peer_a:
            dist.send(buf, other)
            dist.recv(buf, other)
        else:
            dist.recv(buf, other)
            dist.send(buf, other)

    for _ in range(2):
        trip()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(iters):
        trip()
    synchronize(device)
    return (time.perf_counter() - start) / iters / 2


def run(device_name: str, sizes: list[int], quick: bool, progress: bool = True) -> None:
    warnings.filterwarnings("ignore", category=FutureWarning)  # reduce_scatter_tensor's rename in torch 2.13
    local = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_name, local)
    cuda = device.type == "cuda"
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    ns = group_sizes(world)
    groups = {n: (dist.group.WORLD if n == world else dist.new_group(list(range(n)))) for n in ns}
    pairs = [(0, 1)] + ([(0, world - 1)] if world > 2 else [])
    if rank == 0:
        emit("world", world=world, backend=dist.get_backend(), groupSizes=ns, pairs=pairs, sizes=sizes)
    bar = Progress("collectives", len(OPS) * len(ns) * len(sizes) + len(pairs) * len(sizes), progress and rank == 0)
    for op in OPS:
        for n in ns:
            for size in sizes:
                if rank < n:
                    try:
                        call = make_call(op, size, n, groups[n], device)
                        seconds = timed(call, iterations(size, cuda, quick), groups[n], device)
                        if rank == 0:
                            emit("collective", op=op, ranks=n, bytes=size, seconds=seconds)
                    except (RuntimeError, NotImplementedError) as e:  # unsupported by the backend: the same on every rank, all skip
                        if rank == 0:
                            emit("skipped", phase="collectives", label=f"{op} n={n} {size} B", reason=str(e).split("\n")[0][:200])
                        break
                bar.step(f"{op} n={n}")
            line_up(None, device)
    for a, b in pairs:
        for size in sizes:
            if rank in (a, b):
                seconds = ping_pong(a, b, size, iterations(size, cuda, quick), device)
                if rank == a:
                    emit("collective", op="send_recv", ranks=2, pair=[a, b], bytes=size, seconds=seconds)
            bar.step(f"send/recv {a}-{b}")
        line_up(None, device)
    dist.destroy_process_group()
