"""A hard kill reaches the job that a worker started in a session of its own."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kelpie.platform.process_tree import descendants, kill_tree

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")

# a "worker" that starts a "job" in a new session, as the real worker does, then waits
WORKER = """
import subprocess, sys, time
sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
job = subprocess.Popen(sleeper, start_new_session=True)
print(job.pid, flush=True)
time.sleep(60)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_kill_tree_kills_the_worker_and_the_job_in_its_own_session() -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert worker.stdout is not None
    job = int(worker.stdout.readline())
    assert os.getpgid(job) != os.getpgid(worker.pid)
    assert job in descendants(worker.pid)

    kill_tree(worker.pid)

    assert worker.wait(timeout=5) == -9
    deadline = time.monotonic() + 5
    while alive(job) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(job)
