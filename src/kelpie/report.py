"""What happened to each job, computed from its recorded events alone (a pure function).

Definitions, so that the figures mean one thing:

- **start**: the first ``taken``; **end**: the ``completed``, ``failed`` or ``canceled`` event
  (a job still going ends ``now``); **duration**: end - start.
- **machines**: every machine that took the job, in order of first take.
- **interruption**: the job left a machine before it ended, without a failure:
  - *hard* (``taken_over``: the holder stopped heartbeating, e.g. its machine was killed):
    time lost = takeover - the lost holder's last heartbeat (the event's detail carries it;
    without it, since that holder took the job). The work done between that
    heartbeat and the kill, beyond the last uploaded checkpoint, is not in the events and is
    not counted.
  - *graceful* (``released``: the holder gave the job back, e.g. on SIGTERM): time lost =
    release - the next ``taken`` (or the end, or ``now``, if none came).
- **failed attempts** (``attempt_failed`` and the final ``failed``) are counted apart, with
  the wait after each non-final one until the next ``taken``: a failure is the job's fault,
  not the platform's, and the attempt's own run time may have left a useful checkpoint.

``time lost`` of a job is the sum over its interruptions.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from kelpie.jobs import EventKind, Job, JobEvent, format_timestamp, parse_timestamp

TAKES = frozenset({EventKind.TAKEN, EventKind.TAKEN_OVER})
ENDS = frozenset({EventKind.COMPLETED, EventKind.FAILED, EventKind.CANCELED})

PREVIOUS_HOLDER = "previous_holder"
PREVIOUS_HEARTBEAT = "previous_heartbeat"
"""Keys of a ``taken_over`` event's detail: who lost the job and when it last heartbeat."""


class InterruptionKind(StrEnum):
    HARD = "hard"
    GRACEFUL = "graceful"


@dataclass(frozen=True)
class Interruption:
    kind: InterruptionKind
    machine_id: str | None
    """The machine that lost the job."""
    at: datetime
    """The takeover (hard) or the release (graceful)."""
    lost: timedelta


@dataclass(frozen=True)
class JobReport:
    job_id: str
    status: str
    start: datetime | None
    end: datetime | None
    duration: timedelta | None
    machines: tuple[str, ...]
    interruptions: tuple[Interruption, ...]
    failed_attempts: int
    waited_after_failures: timedelta

    @property
    def time_lost(self) -> timedelta:
        return sum((each.lost for each in self.interruptions), timedelta())

    def count(self, kind: InterruptionKind) -> int:
        return sum(1 for each in self.interruptions if each.kind is kind)


@dataclass(frozen=True)
class Totals:
    jobs: int
    start: datetime | None
    end: datetime | None
    span: timedelta | None
    """First start to last end: the wall-clock time the whole set took."""
    time_lost: timedelta
    machines: int
    hard_interruptions: int
    graceful_interruptions: int
    failed_attempts: int


def _lost_holder_heartbeat(event: JobEvent, fallback: datetime) -> datetime:
    value = event.detail.get(PREVIOUS_HEARTBEAT)
    if isinstance(value, str):
        return parse_timestamp(value)
    return fallback


def _next_take_or_end(events: Sequence[JobEvent], after: int, now: datetime) -> datetime:
    for event in events[after + 1 :]:
        if event.kind in TAKES or event.kind in ENDS:
            return event.at
    return now


def job_report(job: Job, events: Sequence[JobEvent], now: datetime) -> JobReport:
    """The report of one job from its events, oldest first (as the API serves them)."""
    ordered = sorted(events, key=lambda event: event.id)
    machines: list[str] = []
    interruptions: list[Interruption] = []
    failed_attempts = 0
    waited = timedelta()
    start: datetime | None = None
    end: datetime | None = None
    holder: str | None = None
    holder_since: datetime | None = None
    for index, event in enumerate(ordered):
        if event.kind is EventKind.TAKEN_OVER and holder_since is not None:
            lost_heartbeat = _lost_holder_heartbeat(event, holder_since)
            machine = event.detail.get(PREVIOUS_HOLDER, holder)
            interruptions.append(
                Interruption(InterruptionKind.HARD, machine, event.at, event.at - lost_heartbeat)
            )
        if event.kind in TAKES:
            start = start or event.at
            holder, holder_since = event.machine_id, event.at
            if event.machine_id is not None and event.machine_id not in machines:
                machines.append(event.machine_id)
        elif event.kind is EventKind.RELEASED:
            lost = _next_take_or_end(ordered, index, now) - event.at
            interruptions.append(
                Interruption(InterruptionKind.GRACEFUL, event.machine_id, event.at, lost)
            )
            holder, holder_since = None, None
        elif event.kind is EventKind.ATTEMPT_FAILED:
            failed_attempts += 1
            waited += _next_take_or_end(ordered, index, now) - event.at
            holder, holder_since = None, None
        elif event.kind in ENDS:
            failed_attempts += event.kind is EventKind.FAILED
            end = event.at
    duration = None if start is None else (end or now) - start
    return JobReport(
        job_id=job.id,
        status=job.status.value,
        start=start,
        end=end,
        duration=duration,
        machines=tuple(machines),
        interruptions=tuple(interruptions),
        failed_attempts=failed_attempts,
        waited_after_failures=waited,
    )


def totals(reports: Iterable[JobReport]) -> Totals:
    reports = list(reports)
    starts = [report.start for report in reports if report.start is not None]
    ends = [report.end for report in reports if report.end is not None]
    start = min(starts, default=None)
    end = max(ends, default=None) if len(ends) == len(reports) else None
    return Totals(
        jobs=len(reports),
        start=start,
        end=end,
        span=None if start is None or end is None else end - start,
        time_lost=sum((report.time_lost for report in reports), timedelta()),
        machines=len({machine for report in reports for machine in report.machines}),
        hard_interruptions=sum(report.count(InterruptionKind.HARD) for report in reports),
        graceful_interruptions=sum(report.count(InterruptionKind.GRACEFUL) for report in reports),
        failed_attempts=sum(report.failed_attempts for report in reports),
    )


def _time(value: datetime | None) -> str | None:
    return None if value is None else format_timestamp(value)


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)


def job_report_json(report: JobReport) -> dict[str, Any]:
    return {
        "job_id": report.job_id,
        "status": report.status,
        "start": _time(report.start),
        "end": _time(report.end),
        "duration_s": _seconds(report.duration),
        "time_lost_s": _seconds(report.time_lost),
        "machines": list(report.machines),
        "interruptions": [
            {
                "kind": each.kind.value,
                "machine_id": each.machine_id,
                "at": _time(each.at),
                "lost_s": _seconds(each.lost),
            }
            for each in report.interruptions
        ],
        "failed_attempts": report.failed_attempts,
        "waited_after_failures_s": _seconds(report.waited_after_failures),
    }


def totals_json(total: Totals) -> dict[str, Any]:
    return {
        "jobs": total.jobs,
        "start": _time(total.start),
        "end": _time(total.end),
        "span_s": _seconds(total.span),
        "time_lost_s": _seconds(total.time_lost),
        "machines": total.machines,
        "hard_interruptions": total.hard_interruptions,
        "graceful_interruptions": total.graceful_interruptions,
        "failed_attempts": total.failed_attempts,
    }
