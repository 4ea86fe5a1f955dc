"""``kelpie up`` as a user runs it: a job completes, a dead worker comes back, Ctrl-C stops all."""

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import free_port, kelpie_command, start

WAIT_S = 60.0


def eventually(check: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def worker_states(folder: Path) -> list[dict[str, Any]]:
    states = []
    for path in (folder / "workers").glob("*/worker-state.json"):
        try:
            states.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return states


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Up:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process = start(
            kelpie_command(
                "up", "--workers", "2", "--dir", str(folder), "--port", str(self.port),
                "--long-poll", "1", "--grace-period", "3",
            ),
            {"COLUMNS": "120"},
            folder.parent / f"up-{self.port}.log",
        )  # fmt: skip

    def credentials(self) -> dict[str, str]:
        """Once this run wrote them (a second run finds the first run's file)."""
        path = self.folder / "credentials.json"

        def this_runs() -> dict[str, str] | None:
            if not path.exists():
                return None
            saved: dict[str, str] = json.loads(path.read_text())
            return saved if saved["api_url"].endswith(f":{self.port}") else None

        found: dict[str, str] = eventually(this_runs, "credentials.json")
        return found

    def client(self) -> httpx.Client:
        saved = self.credentials()
        return httpx.Client(base_url=saved["api_url"], headers={"X-Kelpie-Key": saved["api_key"]})

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=40)


def stop(running: Up) -> None:
    """Ctrl-C, as a user would: a SIGKILL would leave the API and workers (own sessions) behind."""
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGINT)
        try:
            running.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()


@pytest.fixture
def up(tmp_path: Path) -> Iterator[Up]:
    running = Up(tmp_path / ".kelpie")
    try:
        yield running
    finally:
        stop(running)


def series_sum_job(container_group_id: str) -> dict[str, Any]:
    def folder(name: str, direction: str) -> dict[str, str]:
        return {
            "bucket": "transcripts",
            "prefix": f"app/{name}/",
            "local_path": f"data/{name}/",
            "direction": direction,
        }

    return {
        "command": sys.executable,
        "arguments": ["-m", "kelpie.examples.series_sum"],
        "environment": {"STEP_RUNNING_TIME": "0.01", "STATE_SAVING_INTERVAL": "0.2"},
        "heartbeat_interval": 1,
        "container_group_id": container_group_id,
        "sync": {
            "before": [folder("input", "download"), folder("state", "download")],
            "during": [folder("state", "upload")],
            "after": [folder("output", "upload")],
        },
    }


def test_up_runs_a_job_restarts_a_dead_worker_and_stops_cleanly(up: Up) -> None:
    assert up.credentials()["api_key"]
    assert stat.S_IMODE((up.folder / "credentials.json").stat().st_mode) == 0o600
    storage = up.folder / "storage" / "transcripts" / "app"
    (storage / "input").mkdir(parents=True)
    (storage / "input" / "input.txt").write_text("1\n200\n")

    with up.client() as client:
        job = client.post("/jobs", json=series_sum_job("local")).json()
        done = eventually(
            lambda: client.get(f"/jobs/{job['id']}").json()["status"] == "completed", "the job"
        )
    assert done
    assert (storage / "output" / "sum.txt").read_text() == "20100\n"
    report = subprocess.run(
        kelpie_command("report", "--dir", str(up.folder), "--json", job["id"]),
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    [line] = json.loads(report.stdout)["jobs"]
    assert (line["status"], line["time_lost_s"], line["interruptions"]) == ("completed", 0.0, [])

    [first, *_] = eventually(lambda: worker_states(up.folder), "worker state files")
    os.killpg(first["pid"], signal.SIGKILL)
    eventually(
        lambda: (
            len({state["machine_id"] for state in worker_states(up.folder)} - {first["machine_id"]})
            == 2
        ),
        "a replacement worker",
    )
    pids = [state["pid"] for state in worker_states(up.folder)]

    assert up.interrupt() == 0
    assert not any(pid_alive(pid) for pid in pids)
    assert not (up.folder / "workers").exists() or not list((up.folder / "workers").iterdir())


def test_a_second_start_keeps_the_users_key(tmp_path: Path) -> None:
    folder = tmp_path / ".kelpie"
    keys = []
    for _ in range(2):
        running = Up(folder)
        try:
            with running.client() as client:
                eventually(lambda: client.get("/users/me").status_code == 200, "the API")
            keys.append(running.credentials()["api_key"])
            assert running.interrupt() == 0
        finally:
            stop(running)

    assert keys[0] == keys[1]
