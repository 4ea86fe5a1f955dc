"""What a run must show to be trusted: exact outputs, one holder at a time, resumed work.

Each check returns the problems it found (empty: passed), in words a user can act on.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from kelpie.jobs import EventKind, JobEvent, parse_timestamp
from kelpie.report import PREVIOUS_HEARTBEAT, PREVIOUS_HOLDER

STALE_AFTER_HEARTBEATS = 2
RELEASES = frozenset(
    {EventKind.RELEASED, EventKind.ATTEMPT_FAILED, EventKind.COMPLETED, EventKind.FAILED}
)


def series_sum(start: int, end: int) -> int:
    """The sum of the integers ``start..end``, in closed form."""
    return end * (end + 1) // 2 - (start - 1) * start // 2


def output_problems(job: str, start: int, end: int, output: str | None) -> list[str]:
    expected = series_sum(start, end)
    if output is None:
        return [f"{job}: no output"]
    if output.strip() != str(expected):
        return [f"{job}: output {output.strip()!r}, expected {expected}"]
    return []


def lease_problems(
    job: str,
    events: Sequence[JobEvent],
    heartbeat_interval: int,
    ended: dict[str, datetime] | None = None,
) -> list[str]:
    """Replays the events and checks that no two machines ever held the job at once.

    A machine holds the job from its ``taken``/``taken_over`` until its own release, failed
    attempt or end, or until another machine takes it over. So: a ``taken`` finds nobody
    holding it; a ``taken_over`` names the machine that held it, and came only after that
    machine had been silent for two heartbeat intervals; only the holder ends a hold. Given
    ``ended`` (machine -> when its process was gone), a takeover must also come after the
    holder's end: a takeover from a live machine means two machines were running the job.
    """
    problems: list[str] = []
    holder: str | None = None
    stale_after = timedelta(seconds=STALE_AFTER_HEARTBEATS * heartbeat_interval)
    for event in sorted(events, key=lambda each: each.id):
        where = f"{job}: event {event.id} ({event.kind.value} by {event.machine_id})"
        if event.kind is EventKind.TAKEN:
            if holder is not None:
                problems.append(f"{where}: taken while {holder} held it")
            holder = event.machine_id
        elif event.kind is EventKind.TAKEN_OVER:
            previous = event.detail.get(PREVIOUS_HOLDER)
            if holder is None or previous != holder or event.machine_id == holder:
                problems.append(f"{where}: takeover from {previous}, but the holder was {holder}")
            beat = event.detail.get(PREVIOUS_HEARTBEAT)
            if not isinstance(beat, str) or event.at - parse_timestamp(beat) < stale_after:
                problems.append(f"{where}: {previous} was not silent for {stale_after} ({beat})")
            if ended is not None and (holder not in ended or ended[holder] > event.at):
                problems.append(f"{where}: {holder} was still running when it was taken over")
            holder = event.machine_id
        elif event.kind in RELEASES:
            if event.machine_id != holder:
                problems.append(f"{where}: ended a hold that was {holder}'s")
            holder = None
        elif event.kind is EventKind.CANCELED:
            holder = None
    return problems


def resume_problems(job: str, interruptions: int, log: str | None) -> list[str]:
    """An interrupted job's state log must show a machine resuming it from a checkpoint."""
    if interruptions == 0:
        return []
    if log is None:
        return [f"{job}: interrupted {interruptions} times but its state log is missing"]
    if not any(" resumed on " in line for line in log.splitlines()):
        return [f"{job}: interrupted {interruptions} times but its state log shows no resume"]
    return []
