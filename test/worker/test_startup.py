"""A rank stuck before its first step stops itself at the spec's startupTimeout (executor/worker/
startup_watch.py), naming where it is: run as --print-launch prints it (torchrun, no paraplan
launcher), it waited on gloo's 30-minute timeout, or for ever when stuck outside a collective."""
from __future__ import annotations

import io
import json
import re
import time

import pytest

from conftest import launch, make_spec
from executor.worker.startup_watch import EXIT_STATUS, StartupWatch

TIMEOUT = 4  # seconds: the spec's startupTimeout in these runs

WHERE = {
    "started": "started but never joined the process group",
    "joined": "joined the process group but never finished building the model",
    "built": "built the model but its first step never ended",
}


@pytest.mark.parametrize("phase", ["started", "built"])
def test_a_rank_stuck_before_its_first_step_stops_the_run_at_the_start_up_timeout(phase, tmp_path):
    # Rank 1 hangs once it has reported `phase` (test-only faultInjection `hang`): before
    # init_process_group rank 0 waits in the process group's join; after building, in the first
    # step's collective.
    spec = make_spec(plan={"dp": 2}, training={"steps": 2},
                     fault={"rank": 1, "hang": phase})
    spec["startupTimeout"] = TIMEOUT
    began = time.monotonic()
    # Without the watch this launch would outlast its 120 s (gloo waits 30 minutes).
    run = launch(spec, tmp_path, f"hang-{phase}", timeout=120)
    took = time.monotonic() - began
    assert run.returncode != 0
    assert not [e for e in run.events if e.get("event") == "step"]
    stops = [e for e in run.errors if e["kind"] == "startup-timeout"]
    assert stops, run.stderr[-3000:]
    first = stops[0]
    # The rank says where it was, as its own phase events last said.
    last = [e["phase"] for e in run.phases if e["rank"] == first["rank"]][-1]
    assert first["message"].startswith(f"no first step after {TIMEOUT} s: rank {first['rank']} {WHERE[last]}")
    # ... in one readable line too, and with the watch's own exit status in torchrun's report.
    assert re.search(rf"^paraplan worker rank {first['rank']}: no first step after {TIMEOUT} s: ", run.stderr, re.M)
    assert re.search(rf"exitcode\s*:\s*{EXIT_STATUS}\b", run.stderr)
    # Interpreter and torch start plus the timeout, torchrun's stop of the others: far below a minute.
    assert took < 60, took


def test_the_watch_is_quiet_once_the_first_step_has_ended():
    exits: list[int] = []
    watch = StartupWatch(0, 0.3, exit=exits.append)
    watch.phase = "built"
    watch.done()
    watch.thread.join(1)
    assert not watch.thread.is_alive() and exits == []


def test_the_watch_stops_the_rank_even_when_its_output_is_gone(monkeypatch):
    class Closed(io.StringIO):
        def write(self, s):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("sys.stderr", Closed())
    exits: list[int] = []
    watch = StartupWatch(3, 0.1, exit=exits.append)
    watch.phase = "joined"
    watch.thread.join(2)
    assert exits == [EXIT_STATUS]


def test_the_line_and_event_name_the_phase(capsys):
    exits: list[int] = []
    watch = StartupWatch(2, 0.1, exit=exits.append)
    watch.phase = "started"
    watch.thread.join(2)
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("paraplan worker rank 2: no first step after 0.1 s: rank 2 started but never joined the process group; stopping this rank")
    event = json.loads(err[1].split("PARAPLAN_EVENT ", 1)[1])
    assert event == {"event": "error", "rank": 2, "kind": "startup-timeout",
                     "message": "no first step after 0.1 s: rank 2 started but never joined the process group"}
    assert exits == [EXIT_STATUS]


def test_the_line_reaches_the_shared_pipe_in_one_write(monkeypatch):
    # Every rank of a node writes to torchrun's one stderr pipe, unbuffered (PYTHONUNBUFFERED):
    # the line and its newline must be one write, or another rank's line can land between them
    # (seen in CI: rank 1's line began in the middle of rank 0's).
    class Writes(io.StringIO):
        def __init__(self):
            super().__init__()
            self.calls: list[str] = []

        def write(self, s):
            self.calls.append(s)
            return len(s)

    stream = Writes()
    monkeypatch.setattr("sys.stderr", stream)
    exits: list[int] = []
    watch = StartupWatch(1, 0.1, exit=exits.append)
    watch.phase = "built"
    watch.thread.join(2)
    assert exits == [EXIT_STATUS]
    assert all(c.endswith("\n") and c.count("\n") == 1 for c in stream.calls), stream.calls
    assert stream.calls[0].startswith("paraplan worker rank 1: no first step after 0.1 s: rank 1 built")
