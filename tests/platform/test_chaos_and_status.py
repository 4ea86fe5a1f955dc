"""The chaos's choice and the status screen, as pure functions."""

import random
from datetime import UTC, datetime, timedelta

from rich.console import Console

from kelpie.jobs import Job, JobStatus
from kelpie.platform.chaos import Target, choose
from kelpie.platform.status import Snapshot, render
from kelpie.platform.workers import Slot, SlotState, WorkerView
from kelpie.report import InterruptionKind

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def targets() -> list[Target]:
    return [Target(Slot(index), f"w{index}-abc", f"job-{index}") for index in (3, 1, 2)]


def test_no_target_no_strike() -> None:
    assert choose([], random.Random(1), hard_share=0.5) is None


def test_the_choice_is_replayable_from_the_seed_and_mixes_both_kinds() -> None:
    first = choose(targets(), random.Random(7), 0.5)
    again = choose(targets(), random.Random(7), 0.5)
    rng = random.Random(7)
    kinds = {choice[1] for choice in (choose(targets(), rng, 0.5) for _ in range(50)) if choice}

    assert first is not None
    assert again is not None
    assert (first[0].machine_id, first[1]) == (again[0].machine_id, again[1])
    assert kinds == {InterruptionKind.HARD, InterruptionKind.GRACEFUL}


def test_hard_share_one_only_kills() -> None:
    rng = random.Random(3)
    kinds = {choice[1] for choice in (choose(targets(), rng, 1.0) for _ in range(20)) if choice}

    assert kinds == {InterruptionKind.HARD}


def test_the_status_shows_each_worker_its_job_and_the_queue() -> None:
    job = Job(
        id="0123456789abcdef", user_id="u", status=JobStatus.RUNNING, created=NOW,
        started=NOW - timedelta(seconds=42), heartbeat=NOW - timedelta(seconds=1.5),
        machine_id="w1-aaaaaa", command="python", container_group_id="local",
    )  # fmt: skip
    workers = [
        WorkerView(1, SlotState.RUNNING, "w1-aaaaaa", 101, 12.0, 0, "-", 1),
        WorkerView(2, SlotState.WAITING, None, None, 0.0, 3, "exit 1 (on its own)", 0),
    ]
    state = Snapshot(workers, {JobStatus.PENDING: 2, JobStatus.RUNNING: 1}, [job], NOW)
    console = Console(width=120, record=True)

    console.print(render(state, "header line"))
    text = console.export_text()

    assert "header line" in text
    assert "w1-aaaaaa" in text
    assert "01234567" in text
    assert "(+1 stopping)" in text
    assert "exit 1 (on its own)" in text
    assert "pending 2" in text
    assert "1.5s ago" in text
