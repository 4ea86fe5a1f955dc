"""``KELPIE_STATE_FILE``: what this worker is doing, as JSON, for people and for the job.

Readers (the job's own command, a sidecar, an operator with ``cat``) must never see half a
file, so every write goes to a temporary file in the same folder and is renamed into place.
"""

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kelpie.jobs import format_timestamp

PAST_JOBS_KEPT = 100


def _now() -> str:
    return format_timestamp(datetime.now(UTC))


@dataclass
class JobRecord:
    id: str
    started: str
    phase: str = "starting"
    ended: str | None = None
    pid: int | None = None
    exit_code: int | None = None
    outcome: str | None = None


@dataclass
class WorkerState:
    machine_id: str
    container_group_id: str
    pid: int = field(default_factory=os.getpid)
    started: str = field(default_factory=_now)
    status: str = "starting"
    failed_jobs: int = 0
    current_job: JobRecord | None = None
    past_jobs: list[JobRecord] = field(default_factory=list)


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class StateFile:
    """Holds the worker's state and rewrites the file on every change."""

    def __init__(
        self,
        path: Path,
        state: WorkerState,
        transfers: Callable[[], list[dict[str, Any]]] | None = None,
    ) -> None:
        self.path = path
        self.state = state
        self._transfers = transfers

    def write(self) -> None:
        body: dict[str, Any] = asdict(self.state)
        body["updated"] = _now()
        body["transfers"] = self._transfers() if self._transfers else []
        write_atomically(self.path, json.dumps(body, indent=2) + "\n")

    def set_status(self, status: str) -> None:
        self.state.status = status
        self.write()

    def job_started(self, job_id: str) -> None:
        self.state.current_job = JobRecord(id=job_id, started=_now())
        self.state.status = "working"
        self.write()

    def job_phase(self, phase: str) -> None:
        if self.state.current_job is not None:
            self.state.current_job.phase = phase
        self.write()

    def job_running(self, pid: int) -> None:
        if self.state.current_job is not None:
            self.state.current_job.pid = pid
            self.state.current_job.phase = "running"
        self.write()

    def job_exited(self, exit_code: int | None) -> None:
        if self.state.current_job is not None:
            self.state.current_job.exit_code = exit_code
        self.write()

    def job_ended(self, outcome: str) -> None:
        job = self.state.current_job
        if job is None:
            return
        job.ended = _now()
        job.outcome = outcome
        job.phase = "done"
        if outcome == "failed":
            self.state.failed_jobs += 1
        self.state.past_jobs = [*self.state.past_jobs, job][-PAST_JOBS_KEPT:]
        self.state.current_job = None
        self.state.status = "idle"
        self.write()
