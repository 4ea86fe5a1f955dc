"""What the API tests share: the seed job, small request helpers, worker reports."""

import copy
import os
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.support.processes import kelpie_command

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

SEED_SUBMISSION: dict[str, Any] = {
    "command": "python",
    "arguments": ["/app/main.py"],
    "environment": {"STATE_SAVING_INTERVAL": "60.0", "STEP_RUNNING_TIME": "10.0"},
    "max_failures": 3,
    "heartbeat_interval": 30,
    "container_group_id": "8e78dce7-08b8-4854-b6ea-67a6bb6bcf03",
    "webhook": None,
    "compression": False,
    "sync": {
        "before": [
            {
                "bucket": "transcripts",
                "prefix": "demoapp1/job0/input/",
                "local_path": "/app/data/input/",
                "direction": "download",
            },
            {
                "bucket": "transcripts",
                "prefix": "demoapp1/job0/state/",
                "local_path": "/app/data/state/",
                "direction": "download",
            },
        ],
        "during": [
            {
                "bucket": "transcripts",
                "prefix": "demoapp1/job0/state/",
                "local_path": "/app/data/state/",
                "direction": "upload",
            }
        ],
        "after": [
            {
                "bucket": "transcripts",
                "prefix": "demoapp1/job0/output/",
                "local_path": "/app/data/output/",
                "direction": "upload",
            }
        ],
    },
}

SEED_RESPONSE_KEYS = {
    "id",
    "user_id",
    "status",
    "created",
    "num_failures",
    "machine_id",
    "command",
    "arguments",
    "environment",
    "max_failures",
    "heartbeat_interval",
    "container_group_id",
    "webhook",
    "compression",
    "num_heartbeats",
    "sync",
}


def new_group() -> str:
    return str(uuid.uuid4())


def job_body(group: str | None = None, **overrides: Any) -> dict[str, Any]:
    """The seed's submission, in its own group unless told otherwise."""
    body = copy.deepcopy(SEED_SUBMISSION)
    body["container_group_id"] = group or new_group()
    body.update(overrides)
    return body


def submit(client: httpx.Client, group: str, **overrides: Any) -> dict[str, Any]:
    response = client.post("/jobs", json=job_body(group, **overrides))
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job


def take(client: httpx.Client, group: str, machine: str, wait: float = 0) -> dict[str, Any] | None:
    params: dict[str, str | float] = {"machine_id": machine, "container_group_id": group}
    if wait:
        params["wait"] = wait
    response = client.get("/work", params=params)
    assert response.status_code == 200, response.text
    jobs: list[dict[str, Any]] = response.json()
    assert len(jobs) <= 1
    return jobs[0] if jobs else None


def report(
    client: httpx.Client, job_id: str, what: str, machine: str, group: str
) -> httpx.Response:
    """``what`` is heartbeat, completed, failed or release."""
    return client.post(
        f"/jobs/{job_id}/{what}", json={"machine_id": machine, "container_group_id": group}
    )


def assert_error(response: httpx.Response, status: int, *mentions: str) -> dict[str, Any]:
    """The error shape, and that the message names what it should."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert isinstance(body.get("error"), str)
    assert isinstance(body.get("message"), str)
    for text in mentions:
        assert text in body["message"], body["message"]
    return body


def kelpie(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Runs the ``kelpie`` command as an operator would, its output captured."""
    return subprocess.run(
        kelpie_command(*args),
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
