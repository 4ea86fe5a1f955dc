"""The run checks on hand-built event histories: what counts as two holders at once."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kelpie.jobs import EventKind, JobEvent, format_timestamp
from kelpie.platform.checks import lease_problems, output_problems, resume_problems, series_sum

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(
    number: int, kind: EventKind, seconds: float, machine: str | None, **detail: Any
) -> JobEvent:
    return JobEvent(
        id=number, job_id="j", kind=kind, machine_id=machine, at=at(seconds), detail=detail
    )


def takeover(number: int, seconds: float, machine: str, previous: str, beat: float) -> JobEvent:
    return event(
        number, EventKind.TAKEN_OVER, seconds, machine,
        previous_holder=previous, previous_heartbeat=format_timestamp(at(beat)),
    )  # fmt: skip


@pytest.mark.parametrize(("start", "end"), [(1, 100), (1001, 1400), (5, 5), (-3, 3)])
def test_the_closed_form_matches_the_sum(start: int, end: int) -> None:
    assert series_sum(start, end) == sum(range(start, end + 1))


def test_outputs_must_be_exact() -> None:
    assert output_problems("job0", 1, 100, "5050\n") == []
    assert output_problems("job0", 1, 100, "5049\n") == ["job0: output '5049', expected 5050"]
    assert output_problems("job0", 1, 100, None) == ["job0: no output"]


def test_a_clean_history_of_releases_and_takeovers_passes() -> None:
    events = [
        event(1, EventKind.SUBMITTED, 0, None),
        event(2, EventKind.TAKEN, 1, "a"),
        event(3, EventKind.RELEASED, 5, "a"),
        event(4, EventKind.TAKEN, 5.1, "b"),
        takeover(5, 12, "c", previous="b", beat=7.5),
        event(6, EventKind.COMPLETED, 20, "c"),
    ]

    assert lease_problems("j", events, heartbeat_interval=2, ended={"b": at(8)}) == []


def test_a_take_while_another_machine_holds_the_job_is_caught() -> None:
    events = [event(1, EventKind.TAKEN, 0, "a"), event(2, EventKind.TAKEN, 1, "b")]

    assert lease_problems("j", events, heartbeat_interval=2) == [
        "j: event 2 (taken by b): taken while a held it"
    ]


def test_a_takeover_before_the_holder_was_silent_for_two_intervals_is_caught() -> None:
    events = [event(1, EventKind.TAKEN, 0, "a"), takeover(2, 4.0, "b", previous="a", beat=1.0)]

    [problem] = lease_problems("j", events, heartbeat_interval=2)

    assert "a was not silent for 0:00:04" in problem


def test_a_takeover_from_a_machine_still_alive_is_caught() -> None:
    events = [event(1, EventKind.TAKEN, 0, "a"), takeover(2, 10, "b", previous="a", beat=1)]

    assert lease_problems("j", events, 2, ended={}) == [
        "j: event 2 (taken_over by b): a was still running when it was taken over"
    ]
    assert lease_problems("j", events, 2, ended={"a": at(11)}) != []
    assert lease_problems("j", events, 2, ended={"a": at(9)}) == []


def test_a_takeover_naming_the_wrong_holder_and_an_end_by_a_non_holder_are_caught() -> None:
    events = [
        event(1, EventKind.TAKEN, 0, "a"),
        takeover(2, 10, "b", previous="x", beat=1),
        event(3, EventKind.COMPLETED, 12, "a"),
    ]

    problems = lease_problems("j", events, 2)

    assert problems == [
        "j: event 2 (taken_over by b): takeover from x, but the holder was a",
        "j: event 3 (completed by a): ended a hold that was b's",
    ]


def test_an_interrupted_job_must_show_a_resume_in_its_log() -> None:
    log = "t a started on a: sum of 1..9\nt b resumed on b at step 4\nt b done\n"

    assert resume_problems("job1", 0, None) == []
    assert resume_problems("job1", 2, log) == []
    assert resume_problems("job1", 2, "t a started on a\n") == [
        "job1: interrupted 2 times but its state log shows no resume"
    ]
    assert resume_problems("job1", 1, None) == [
        "job1: interrupted 1 times but its state log is missing"
    ]
