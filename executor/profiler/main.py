"""Command line of the profiler (see __init__.py):

  python -m executor.profiler single --device cpu|cuda [--quick] [--threads N] [--skip matmul,memory,attention]
  torchrun … -m executor.profiler collectives --device cpu|cuda [--quick] --sizes 8192,1048576,…
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback

from .common import emit, emit_error


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m executor.profiler")
    sub = p.add_subparsers(dest="command", required=True)
    single = sub.add_parser("single", help="matmul, memory and attention in this process")
    single.add_argument("--device", choices=("cpu", "cuda"), default="cuda")
    single.add_argument("--quick", action="store_true")
    single.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    single.add_argument("--skip", default="", help="comma-separated parts to leave out")
    single.add_argument("--no-progress", action="store_true")
    coll = sub.add_parser("collectives", help="collectives, under torchrun")
    coll.add_argument("--device", choices=("cpu", "cuda"), default="cuda")
    coll.add_argument("--quick", action="store_true")
    coll.add_argument("--sizes", required=True, help="comma-separated message sizes in bytes")
    coll.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def single(args: argparse.Namespace) -> None:
    import torch

    from . import attention, matmul, memory
    from .common import pick_device, versions

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    emit("versions", **versions(device))
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    progress = not args.no_progress
    torch.manual_seed(0)
    if "matmul" not in skip:
        matmul.run(device, args.quick, progress)
    if "memory" not in skip:
        memory.run(device, args.quick, progress)
    if "attention" not in skip:
        attention.run(device, args.quick, progress)
    emit("done")


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    rank = int(os.environ.get("RANK", "0"))
    try:
        if args.command == "single":
            single(args)
        else:
            from . import collectives

            sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
            collectives.run(args.device, sizes, args.quick, not args.no_progress)
            if rank == 0:
                emit("done")
    except Exception as e:  # one line for paraplan, the traceback for the log
        traceback.print_exc()
        emit_error(f"{type(e).__name__}: {e}", rank)
        sys.exit(1)
