"""The job state machine: which event may happen in which status, and where it leads.

Statuses are the contract's. A job stays ``running`` through interruptions and failed attempts,
as the original documents; whether a running job is *held* is a separate fact (the store's
lease holder), so that a failed attempt or a release makes the job available at once without
inventing a status that existing clients would not understand.

    submitted ──> pending ──taken──> running ──completed──> completed
                     │                 │  ↺ taken_over, released, attempt_failed, heartbeat
                     │                 ├──failed (num_failures reaches max)──> failed
                     └──canceled──────>┴──canceled──> canceled
"""

from enum import StrEnum


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELED = "canceled"
    FAILED = "failed"


TERMINAL: frozenset[JobStatus] = frozenset(
    {JobStatus.COMPLETED, JobStatus.CANCELED, JobStatus.FAILED}
)


class EventKind(StrEnum):
    """Every recorded change of a job. ``GET /jobs/{id}/events`` serves these, oldest first."""

    SUBMITTED = "submitted"
    TAKEN = "taken"
    """A machine took a pending job, or a running job that nobody held (after a release or a
    failed attempt)."""
    TAKEN_OVER = "taken_over"
    """A machine took a running job whose holder had stopped heartbeating."""
    ATTEMPT_FAILED = "attempt_failed"
    """The holder reported a failure and attempts remain: the job is free for another machine."""
    RELEASED = "released"
    """The holder gave the job back (its machine is shutting down); not a failure."""
    COMPLETED = "completed"
    FAILED = "failed"
    """The holder reported the failure that used up ``max_failures``."""
    CANCELED = "canceled"


class IllegalTransition(Exception):
    """An event that cannot happen to a job in its current status."""

    def __init__(self, event: EventKind, status: JobStatus) -> None:
        super().__init__(f"a {status.value} job cannot be {event.value}")
        self.event = event
        self.status = status


HOLDABLE: frozenset[JobStatus] = frozenset({JobStatus.RUNNING})
"""The statuses in which a machine can hold a job: heartbeats are fenced on them."""

# event -> (statuses it may happen in, status it leads to)
_TRANSITIONS: dict[EventKind, tuple[frozenset[JobStatus], JobStatus]] = {
    EventKind.TAKEN: (frozenset({JobStatus.PENDING, JobStatus.RUNNING}), JobStatus.RUNNING),
    EventKind.TAKEN_OVER: (HOLDABLE, JobStatus.RUNNING),
    EventKind.ATTEMPT_FAILED: (HOLDABLE, JobStatus.RUNNING),
    EventKind.RELEASED: (HOLDABLE, JobStatus.RUNNING),
    EventKind.COMPLETED: (HOLDABLE, JobStatus.COMPLETED),
    EventKind.FAILED: (HOLDABLE, JobStatus.FAILED),
    EventKind.CANCELED: (frozenset({JobStatus.PENDING, JobStatus.RUNNING}), JobStatus.CANCELED),
}


def allowed_from(event: EventKind) -> frozenset[JobStatus]:
    """The statuses in which ``event`` may happen (the store puts them in its WHERE clauses)."""
    if event is EventKind.SUBMITTED:
        return frozenset()
    return _TRANSITIONS[event][0]


def next_status(event: EventKind, status: JobStatus) -> JobStatus:
    """Where ``event`` takes a job that is in ``status``; raises if it cannot happen there."""
    allowed, target = _TRANSITIONS.get(event, (frozenset(), JobStatus.PENDING))
    if status not in allowed:
        raise IllegalTransition(event, status)
    return target


def failure_event(num_failures_after: int, max_failures: int) -> EventKind:
    """A reported failure ends the job once the failures reach ``max_failures``."""
    return EventKind.FAILED if num_failures_after >= max_failures else EventKind.ATTEMPT_FAILED
