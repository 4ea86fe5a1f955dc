"""What the worker tells the platform: SaladCloud's metadata service, or its exit code."""

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support import processes
from tests.worker.fakes import fake_metadata, impatient_api
from tests.worker.harness import SQLITE_ONLY, Harness, wait_for


@SQLITE_ONLY
def test_on_saladcloud_deletion_cost_follows_the_work_and_failures_reallocate(
    harness: Harness,
) -> None:
    good = harness.stepper_job("s", steps=12, pause=0.25, heartbeat_interval=1)
    bad = harness.submit(
        command=sys.executable,
        arguments=["-c", "raise SystemExit(2)"],
        max_failures=1,
        sync={"after": []},
    )
    with fake_metadata() as fake:
        worker = harness.start_worker(
            "w1",
            SALAD_MACHINE_ID="salad-machine-1",
            SALAD_CONTAINER_GROUP_ID=harness.group,
            KELPIE_METADATA_URL=fake.url,
            MAX_JOB_FAILURES="1",
        )
        calls = wait_for(lambda: fake.posts("/v1/reallocate"), 60, "a reallocation request")
        assert "1 jobs failed here" in calls[0].body["reason"]
        assert worker.process.poll() is None
        worker.process.send_signal(signal.SIGTERM)
        assert worker.wait_exit(10) == 0
    assert harness.job(good)["status"] == "completed"
    assert harness.job(bad)["status"] == "failed"
    costs = fake.deletion_costs()
    assert costs[0] == 0
    running = costs[1 : costs.index(999_999_999)]
    assert running == sorted(running)
    assert running[0] >= 1
    assert costs[costs.index(999_999_999) + 1] == 0


@SQLITE_ONLY
def test_elsewhere_recreate_between_jobs_exits_5_after_one_job(harness: Harness) -> None:
    first = harness.stepper_job("r1", steps=1, pause=0)
    second = harness.stepper_job("r2", steps=1, pause=0)
    worker = harness.start_worker("w1", KELPIE_RECREATE_BETWEEN_JOBS="true")
    assert worker.wait_exit(60) == 5, worker.output()
    assert harness.job(first)["status"] == "completed"
    assert harness.job(second)["status"] == "pending"


@SQLITE_ONLY
def test_elsewhere_an_idle_worker_exits_with_its_own_code(harness: Harness) -> None:
    worker = harness.start_worker("w1", MAX_TIME_WITH_NO_WORK_S="1.5")
    assert worker.wait_exit(15) == 3
    assert "no work for 2 s" in worker.output() or "no work for 1 s" in worker.output()


@SQLITE_ONLY
def test_a_worker_with_no_job_stops_at_once_on_sigterm(harness: Harness) -> None:
    worker = harness.start_worker("w1", KELPIE_LONG_POLL_S="30")
    wait_for(lambda: "taking work" in worker.output(), 20, "the worker to start")
    worker.process.send_signal(signal.SIGTERM)
    assert worker.wait_exit(5) == 0


def test_bad_settings_are_one_clear_line_and_exit_2() -> None:
    result = subprocess.run(
        processes.kelpie_command("worker", "--long-poll", "90"),
        env={"PATH": "/usr/bin:/bin", "KELPIE_API_KEY": "k", "KELPIE_CONTAINER_GROUP_ID": "g"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "kelpie worker: KELPIE_LONG_POLL_S must be from 0 to 60, not 90"
    )
    assert "Traceback" not in result.stderr + result.stdout


def test_against_an_api_without_long_polls_the_worker_waits_between_polls(
    tmp_path: Path,
) -> None:
    with impatient_api() as api:
        result = subprocess.run(
            processes.kelpie_command("worker"),
            env={
                **os.environ,
                "KELPIE_API_URL": api.url,
                "KELPIE_API_KEY": "k",
                "KELPIE_CONTAINER_GROUP_ID": "g",
                "KELPIE_WORKDIR": str(tmp_path),
                "KELPIE_STORAGE_DIR": str(tmp_path / "store"),
                "KELPIE_POLL_INTERVAL_S": "0.5",
                "MAX_TIME_WITH_NO_WORK_S": "2.2",
                "SALAD_MACHINE_ID": "",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 3, result.stderr
    times = [at for at, _ in api.polls]
    assert 3 <= len(times) <= 6
    assert all(later - earlier >= 0.45 for earlier, later in itertools.pairwise(times))
    assert "wait=" in api.polls[0][1]
