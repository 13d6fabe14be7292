"""A rank exits when its torchrun agent is gone.

torchrun starts each rank in a session of its own (torch/distributed/elastic/multiprocessing/
subprocess_handler: Popen(start_new_session=True)), so a signal to the agent's process group does
not reach the ranks, and an agent killed outright (SIGKILL, the OOM killer) cannot pass one on:
its ranks would train on as orphans while the launcher waits for their output to close. A daemon
thread notices the agent's death by this process being re-parented (os.getppid() changes) and
ends the rank at once, whatever became of its output: the stream the agent (or the launcher
killed with it) was reading is then closed, and the line saying why raises BrokenPipeError.
"""
from __future__ import annotations

import os
import sys
import threading
import time

POLL_SECONDS = 0.5
EXIT_STATUS = 70  # EX_SOFTWARE: not a training error


def watch_agent(rank: int, poll: float = POLL_SECONDS, exit=os._exit) -> threading.Thread | None:
    """Start the watch under torchrun (TORCHELASTIC_RUN_ID set); None when launched otherwise."""
    if "TORCHELASTIC_RUN_ID" not in os.environ:
        return None
    agent = os.getppid()

    def loop() -> None:
        while True:
            time.sleep(poll)
            if os.getppid() != agent:
                try:
                    # One write, line and newline (metrics.write_line; not imported: it brings torch).
                    sys.stderr.write(f"paraplan worker rank {rank}: its torchrun agent (pid {agent}) "
                                     "is gone; stopping this rank\n")
                    sys.stderr.flush()
                except (OSError, ValueError):
                    pass  # nobody reads the output any more: stop all the same
                exit(EXIT_STATUS)
                return

    t = threading.Thread(target=loop, name="paraplan-agent-watch", daemon=True)
    t.start()
    return t
