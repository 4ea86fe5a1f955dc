"""Running real workers against the real API and moto's S3, as an operator would."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import boto3
import httpx
import pytest

from tests.support import processes
from tests.support.servers import ApiServer, S3Server, User

T = TypeVar("T")

SQLITE_ONLY = pytest.mark.parametrize("server", ["sqlite"], indirect=True)
"""The worker does not care which database the API uses; one backend keeps the tier short."""

STEPPER = textwrap.dedent(
    """
    # A resumable job: one step every PAUSE seconds, its progress saved in data/state
    # (written beside it and renamed in, as a job that checkpoints should).
    import json, os, pathlib, signal, sys, time

    state, out = pathlib.Path("data/state"), pathlib.Path("data/out")
    checkpoint = state / "step.json"
    steps, pause = int(os.environ["STEPS"]), float(os.environ["PAUSE"])
    start = json.loads(checkpoint.read_text())["step"] if checkpoint.exists() else 0
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda number, frame: stopping.append(number))
    print("starting at step", start, flush=True)
    for step in range(start, steps):
        if stopping:
            print("stopping at step", step, flush=True)
            sys.exit(128 + stopping[0])
        time.sleep(pause)
        state.mkdir(parents=True, exist_ok=True)
        scratch = pathlib.Path("data/step.tmp")
        scratch.write_text(json.dumps({"step": step + 1}))
        os.replace(scratch, checkpoint)
    inputs = pathlib.Path("data/in")
    for source in sorted(p for p in inputs.rglob("*") if p.is_file()):
        target = out / "copies" / source.relative_to(inputs)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.read_text().upper())
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps({"resumed_from": start, "steps": steps}))
    print("done", flush=True)
    """
)


def wait_for(check: Callable[[], T | None], timeout: float, what: str, every: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    workdir: Path
    log: Path

    @property
    def state_file(self) -> Path:
        return self.workdir / ".kelpie" / "state.json"

    def state(self) -> dict[str, Any] | None:
        try:
            loaded: dict[str, Any] = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        return loaded

    def command_pid(self) -> int | None:
        state = self.state()
        job = state and state.get("current_job")
        return job.get("pid") if job else None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still running:\n{self.output()[-3000:]}") from None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


@dataclass
class Harness:
    api_url: str
    user: User
    s3: S3Server
    folder: Path
    bucket: str = field(default_factory=lambda: f"kelpie-{uuid.uuid4().hex[:12]}")
    group: str = field(default_factory=lambda: str(uuid.uuid4()))
    workers: list[Worker] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.storage = boto3.client(
            "s3",
            endpoint_url=self.s3.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        self.storage.create_bucket(Bucket=self.bucket)
        self.stepper = self.folder / "stepper.py"
        self.stepper.write_text(STEPPER)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url, headers=self.user.headers, timeout=30)

    def submit(self, **fields: Any) -> str:
        body = {"container_group_id": self.group, "heartbeat_interval": 1, **fields}
        with self.http() as http:
            answer = http.post("/jobs", json=body)
        assert answer.status_code == 202, answer.text
        job_id: str = answer.json()["id"]
        return job_id

    def stepper_job(self, prefix: str, steps: int, pause: float, **fields: Any) -> str:
        """A job of the stepper script with before (input, state), during and after sync."""
        bucket = self.bucket
        return self.submit(
            command=sys.executable,
            arguments=[str(self.stepper)],
            environment={"STEPS": str(steps), "PAUSE": str(pause)},
            sync={
                "before": [
                    {
                        "bucket": bucket,
                        "prefix": f"{prefix}/in/",
                        "local_path": "data/in",
                        "direction": "download",
                    },
                    {
                        "bucket": bucket,
                        "prefix": f"{prefix}/state/",
                        "local_path": "data/state",
                        "direction": "download",
                    },
                ],
                "during": [
                    {
                        "bucket": bucket,
                        "prefix": f"{prefix}/state/",
                        "local_path": "data/state",
                        "direction": "upload",
                    },
                ],
                "after": [
                    {
                        "bucket": bucket,
                        "prefix": f"{prefix}/out/",
                        "local_path": "data/out",
                        "direction": "upload",
                    },
                ],
            },
            **fields,
        )

    def job(self, job_id: str) -> dict[str, Any]:
        with self.http() as http:
            answer = http.get(f"/jobs/{job_id}")
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
        return found

    def events(self, job_id: str) -> list[dict[str, Any]]:
        with self.http() as http:
            answer = http.get(f"/jobs/{job_id}/events")
        answer.raise_for_status()
        events: list[dict[str, Any]] = answer.json()["events"]
        return events

    def cancel(self, job_id: str) -> None:
        with self.http() as http:
            http.delete(f"/jobs/{job_id}").raise_for_status()

    def wait_status(self, job_id: str, status: str, timeout: float) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            job = self.job(job_id)
            if job["status"] in ("completed", "failed", "canceled") and job["status"] != status:
                raise AssertionError(f"job ended {job['status']}, not {status}:\n{self.logs()}")
            return job if job["status"] == status else None

        try:
            return wait_for(reached, timeout, f"job {job_id} to be {status}", every=0.2)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.logs()}") from None

    def put(self, key: str, body: bytes) -> None:
        self.storage.put_object(Bucket=self.bucket, Key=key, Body=body)

    def objects(self, prefix: str) -> dict[str, bytes]:
        listed = self.storage.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return {
            item["Key"]: self.storage.get_object(Bucket=self.bucket, Key=item["Key"])["Body"].read()
            for item in listed.get("Contents", [])
        }

    def step(self, prefix: str) -> int:
        saved = self.objects(f"{prefix}/state/").get(f"{prefix}/state/step.json")
        return int(json.loads(saved)["step"]) if saved else 0

    def start_worker(self, name: str, **env: str) -> Worker:
        workdir = self.folder / name
        workdir.mkdir()
        log = self.folder / f"{name}.log"
        full_env = {
            **self.s3.env,
            "KELPIE_API_URL": self.api_url,
            "KELPIE_API_KEY": self.user.token,
            "KELPIE_CONTAINER_GROUP_ID": self.group,
            "KELPIE_MACHINE_ID": f"{name}-{uuid.uuid4().hex[:8]}",
            "KELPIE_WORKDIR": str(workdir),
            "KELPIE_LONG_POLL_S": "2",
            "KELPIE_POLL_INTERVAL_S": "0.2",
            "KELPIE_GRACE_PERIOD_S": "5",
            "KELPIE_TRANSFER_ATTEMPTS": "2",
            "KELPIE_LOG_LEVEL": "DEBUG",
            "SALAD_MACHINE_ID": "",
            "SALAD_CONTAINER_GROUP_ID": "",
            **env,
        }
        process = processes.start(processes.kelpie_command("worker"), full_env, log, cwd=workdir)
        worker = Worker(name, process, workdir, log)
        self.workers.append(worker)
        return worker

    def logs(self) -> str:
        return "\n".join(f"--- {w.name}\n{w.output()[-4000:]}" for w in self.workers)

    def close(self) -> None:
        for worker in self.workers:
            pid = worker.command_pid()
            processes.stop(worker.process, timeout=10)
            if pid:
                kill_group(pid)


def harness_for(server: ApiServer, s3: S3Server, folder: Path) -> Iterator[Harness]:
    harness = Harness(server.url, server.new_user(), s3, folder)
    try:
        yield harness
    finally:
        harness.close()
