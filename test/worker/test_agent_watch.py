"""A rank whose torchrun agent is killed outright stops by itself (executor/worker/agent_watch.py):
torchrun runs ranks in sessions of their own, so they outlived a SIGKILLed agent and trained on as
orphans while paraplan waited for their output."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import time
from executor.worker.agent_watch import watch_agent
watch_agent(3, poll=0.05)
time.sleep(60)
"""

AGENT = f"""
import subprocess, sys, time
p = subprocess.Popen([sys.executable, "-c", {CHILD!r}], start_new_session=True)
print(p.pid, flush=True)
time.sleep(60)
"""

# The rank's stderr a pipe only the agent reads (as when the launcher reading it dies with the
# agent): the rank's last line then raises BrokenPipeError.
AGENT_READING = AGENT.replace("start_new_session=True)", "start_new_session=True, stderr=subprocess.PIPE)")


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.mark.parametrize("agent_source", [AGENT, AGENT_READING], ids=["own-stderr", "stderr-closed"])
def test_rank_stops_within_a_second_of_its_agents_sigkill(agent_source):
    env = {**os.environ, "TORCHELASTIC_RUN_ID": "test", "PYTHONPATH": str(ROOT)}
    agent = subprocess.Popen([sys.executable, "-c", agent_source], stdout=subprocess.PIPE, env=env, text=True,
                             start_new_session=True)
    try:
        child = int(agent.stdout.readline())
        time.sleep(0.5)
        assert _running(child)
        os.kill(agent.pid, signal.SIGKILL)
        agent.wait()
        deadline = time.monotonic() + 5
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(child), "the rank outlived its agent"
    finally:
        agent.kill()


def test_no_watch_outside_torchrun(monkeypatch):
    from executor.worker.agent_watch import watch_agent

    monkeypatch.delenv("TORCHELASTIC_RUN_ID", raising=False)
    assert watch_agent(0) is None
