"""Rows to contract models and back: the only place that knows how a job is laid out in SQL."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import RowMapping

from kelpie.jobs import Job, JobEvent, JobStatus, JobSubmission
from kelpie.jobs.models import LEGACY_FIELDS

TIMESTAMPS = ("created", "started", "completed", "canceled", "failed", "heartbeat")


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    username: str
    created: datetime


@overload
def as_utc(value: datetime) -> datetime: ...
@overload
def as_utc(value: None) -> None: ...
def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every timestamp the store writes is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def user_from_row(row: RowMapping) -> UserRecord:
    return UserRecord(id=row["id"], username=row["username"], created=as_utc(row["created"]))


def job_from_row(row: RowMapping) -> Job:
    data = dict(row)
    for name in TIMESTAMPS:
        data[name] = as_utc(data[name])
    return Job.model_validate(data)


def event_from_row(row: RowMapping) -> JobEvent:
    return JobEvent.model_validate({**row, "at": as_utc(row["at"])})


def job_values(submission: JobSubmission) -> dict[str, Any]:
    """The columns of a new job that come from its submission (the store adds the rest)."""
    values: dict[str, Any] = {
        "status": JobStatus.PENDING.value,
        "num_failures": 0,
        "num_heartbeats": 0,
        "command": submission.command,
        "arguments": submission.arguments,
        "environment": submission.environment,
        "max_failures": submission.max_failures,
        "heartbeat_interval": submission.heartbeat_interval,
        "container_group_id": submission.container_group_id,
        "webhook": None if submission.webhook is None else str(submission.webhook),
        "compression": submission.compression,
        "sync": None,
    }
    if submission.sync is not None:
        values["sync"] = submission.sync.model_dump(mode="json", exclude_none=True)
    for name in LEGACY_FIELDS:
        values[name] = None if submission.sync is not None else getattr(submission, name)
    return values
