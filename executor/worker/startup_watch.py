"""A rank that has not finished its first step within the start-up deadline stops itself.

Before the first step a rank can wait on a peer for as long as its collective timeout (gloo's
30 minutes, NCCL's 10), and one stuck outside a collective (building its model, a hung import)
waits for ever. `paraplan execute` stops every rank at its own deadline (executor/supervise.ts
`startup`, naming the ranks behind); this watch is for a rank run without it (the torchrun lines
of `paraplan execute --print-launch`). It fires at the spec's `startupTimeout`, which the launcher
sets past its own deadline (executor/prepare.ts WORKER_STARTUP_MARGIN) so that under `paraplan
execute` the launcher, which sees every rank of its node, speaks first. A collective timeout
(init_process_group's `timeout=`) would bound only the ranks waiting on a peer, not the one stuck,
and every collective after the first step as well.

On expiry the rank says where it is, in one line and as an error event (executor/PROTOCOL.md),
and exits with EXIT_STATUS; torchrun then stops the other ranks of its node.
"""
from __future__ import annotations

import os
import sys
import threading
from typing import Callable

from .metrics import emit, write_line

EXIT_STATUS = 75  # EX_TEMPFAIL: nothing failed here, the run never began
# A spec without startupTimeout: the launcher's default deadline and margin (executor/prepare.ts
# DEFAULT_STARTUP_TIMEOUT + WORKER_STARTUP_MARGIN).
DEFAULT_STARTUP_TIMEOUT = 20 * 60 + 30

# The last phase a rank reported (metrics.emit_phase), as the launcher words it
# (src/format/startup-text.ts WHERE).
WHERE = {
    None: "had not yet reported starting",
    "started": "started but never joined the process group",
    "joined": "joined the process group but never finished building the model",
    "built": "built the model but its first step never ended (a peer missing from a collective)",
}


def _say(rank: int, line: str, message: str) -> None:
    """Write, ignoring a closed stream: the exit must come whatever happens to the output."""
    try:
        write_line(line, sys.stderr)
        emit({"event": "error", "rank": rank, "kind": "startup-timeout", "message": message}, sys.stderr)
    except (OSError, ValueError):
        pass


def _time(s: float) -> str:
    """4 s, 0.1 s, 20.5 min."""
    return f"{s:g} s" if s < 120 else f"{s / 60:.1f} min"


class StartupWatch:
    """watch = StartupWatch(rank, seconds); watch.phase = "joined"; …; watch.done() after step 1."""

    def __init__(self, rank: int, seconds: float, exit: Callable[[int], object] = os._exit):
        self.rank = rank
        self.seconds = seconds
        self.phase: str | None = None
        self._done = threading.Event()
        self._exit = exit
        self.thread = threading.Thread(target=self._wait, name="paraplan-startup-watch", daemon=True)
        self.thread.start()

    def done(self) -> None:
        self._done.set()

    def _wait(self) -> None:
        if self._done.wait(self.seconds):
            return
        where = WHERE.get(self.phase, WHERE[None])
        message = f"no first step after {_time(self.seconds)}: rank {self.rank} {where}"
        _say(self.rank, f"paraplan worker rank {self.rank}: {message}; stopping this rank "
             "(startupTimeout in the launch spec; paraplan execute --startup-timeout)", message)
        self._exit(EXIT_STATUS)


def watch_startup(rank: int, startup_timeout: float | None) -> StartupWatch:
    """The watch for a spec's `startupTimeout` (seconds; None: DEFAULT_STARTUP_TIMEOUT)."""
    return StartupWatch(rank, DEFAULT_STARTUP_TIMEOUT if startup_timeout is None else startup_timeout)
