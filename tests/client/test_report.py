"""The report's figures from hand-built event histories."""

from datetime import UTC, datetime, timedelta
from typing import Any

from kelpie.jobs import EventKind, Job, JobEvent, JobStatus, format_timestamp
from kelpie.report import InterruptionKind, job_report, job_report_json, totals

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def job(job_id: str = "job-1", status: JobStatus = JobStatus.COMPLETED) -> Job:
    return Job(
        id=job_id,
        user_id="u",
        status=status,
        created=T0,
        command="python",
        container_group_id="g",
    )


class History:
    def __init__(self, job_id: str = "job-1") -> None:
        self.job_id = job_id
        self.events: list[JobEvent] = []

    def add(
        self, kind: EventKind, seconds: float, machine: str | None = None, **detail: Any
    ) -> "History":
        self.events.append(
            JobEvent(
                id=len(self.events) + 1,
                job_id=self.job_id,
                kind=kind,
                machine_id=machine,
                at=at(seconds),
                detail=detail,
            )
        )
        return self


def test_an_uninterrupted_job_has_its_duration_and_nothing_lost() -> None:
    history = (
        History()
        .add(EventKind.SUBMITTED, 0)
        .add(EventKind.TAKEN, 2, "a")
        .add(EventKind.COMPLETED, 62, "a")
    )

    report = job_report(job(), history.events, now=at(1000))

    assert (report.start, report.end) == (at(2), at(62))
    assert report.duration == timedelta(seconds=60)
    assert report.machines == ("a",)
    assert report.interruptions == ()
    assert report.time_lost == timedelta()
    assert report.failed_attempts == 0


def test_a_takeover_loses_the_time_since_the_lost_holders_last_heartbeat() -> None:
    history = (
        History()
        .add(EventKind.SUBMITTED, 0)
        .add(EventKind.TAKEN, 1, "a")
        .add(
            EventKind.TAKEN_OVER,
            40,
            "b",
            previous_holder="a",
            previous_heartbeat=format_timestamp(at(31)),
        )
        .add(EventKind.COMPLETED, 90, "b")
    )

    report = job_report(job(), history.events, now=at(1000))

    [hard] = report.interruptions
    assert hard.kind is InterruptionKind.HARD
    assert (hard.machine_id, hard.at, hard.lost) == ("a", at(40), timedelta(seconds=9))
    assert report.machines == ("a", "b")
    assert report.duration == timedelta(seconds=89)


def test_a_release_loses_the_time_until_the_next_take() -> None:
    history = (
        History()
        .add(EventKind.TAKEN, 0, "a")
        .add(EventKind.RELEASED, 10, "a")
        .add(EventKind.TAKEN, 10.25, "b")
        .add(EventKind.RELEASED, 20, "b")
        .add(EventKind.TAKEN, 21, "a")
        .add(EventKind.COMPLETED, 30, "a")
    )

    report = job_report(job(), history.events, now=at(1000))

    assert [
        (each.kind, each.machine_id, each.lost.total_seconds()) for each in report.interruptions
    ] == [
        (InterruptionKind.GRACEFUL, "a", 0.25),
        (InterruptionKind.GRACEFUL, "b", 1.0),
    ]
    assert report.time_lost == timedelta(seconds=1.25)
    assert report.machines == ("a", "b")


def test_failed_attempts_are_counted_apart_from_interruptions() -> None:
    history = (
        History()
        .add(EventKind.TAKEN, 0, "a")
        .add(EventKind.ATTEMPT_FAILED, 5, "a", num_failures=1)
        .add(EventKind.TAKEN, 7, "b")
        .add(EventKind.ATTEMPT_FAILED, 9, "b", num_failures=2)
        .add(EventKind.TAKEN, 9.5, "c")
        .add(EventKind.FAILED, 12, "c", num_failures=3)
    )

    report = job_report(job(status=JobStatus.FAILED), history.events, now=at(1000))

    assert report.failed_attempts == 3
    assert report.waited_after_failures == timedelta(seconds=2.5)
    assert report.interruptions == ()
    assert report.end == at(12)


def test_a_running_job_ends_now_and_a_release_with_no_taker_yet_is_still_losing() -> None:
    history = History().add(EventKind.TAKEN, 0, "a").add(EventKind.RELEASED, 10, "a")

    report = job_report(job(status=JobStatus.RUNNING), history.events, now=at(25))

    assert report.end is None
    assert report.duration == timedelta(seconds=25)
    assert report.time_lost == timedelta(seconds=15)


def test_a_pending_job_has_no_start() -> None:
    report = job_report(
        job(status=JobStatus.PENDING), History().add(EventKind.SUBMITTED, 0).events, at(5)
    )

    assert (report.start, report.duration, report.machines) == (None, None, ())


def test_events_are_read_in_id_order_whatever_order_they_come_in() -> None:
    history = History().add(EventKind.TAKEN, 0, "a").add(EventKind.RELEASED, 3, "a")
    history.add(EventKind.TAKEN, 4, "b").add(EventKind.COMPLETED, 8, "b")

    report = job_report(job(), list(reversed(history.events)), now=at(100))

    assert report.machines == ("a", "b")
    assert report.time_lost == timedelta(seconds=1)


def test_totals_add_up_and_span_the_whole_set() -> None:
    first = History("j1").add(EventKind.TAKEN, 0, "a").add(EventKind.RELEASED, 5, "a")
    first.add(EventKind.TAKEN, 6, "b").add(EventKind.COMPLETED, 10, "b")
    second = History("j2").add(EventKind.TAKEN, 2, "b")
    second.add(
        EventKind.TAKEN_OVER,
        20,
        "c",
        previous_holder="b",
        previous_heartbeat=format_timestamp(at(14)),
    )
    second.add(EventKind.COMPLETED, 30, "c")
    reports = [
        job_report(job("j1"), first.events, now=at(100)),
        job_report(job("j2"), second.events, now=at(100)),
    ]

    total = totals(reports)

    assert (total.jobs, total.start, total.end, total.span) == (
        2,
        at(0),
        at(30),
        timedelta(seconds=30),
    )
    assert total.time_lost == timedelta(seconds=7)
    assert (total.machines, total.hard_interruptions, total.graceful_interruptions) == (3, 1, 1)


def test_the_json_form_gives_seconds_and_contract_timestamps() -> None:
    history = History().add(EventKind.TAKEN, 0, "a").add(EventKind.RELEASED, 1, "a")
    history.add(EventKind.TAKEN, 1.5, "b").add(EventKind.COMPLETED, 4, "b")

    body = job_report_json(job_report(job(), history.events, now=at(100)))

    assert body["start"] == "2026-01-01T12:00:00.000Z"
    assert body["duration_s"] == 4.0
    assert body["time_lost_s"] == 0.5
    assert body["interruptions"][0] == {
        "kind": "graceful",
        "machine_id": "a",
        "at": "2026-01-01T12:00:01.000Z",
        "lost_s": 0.5,
    }
