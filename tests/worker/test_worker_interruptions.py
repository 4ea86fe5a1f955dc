"""Cancel, SIGTERM, SIGKILL and an API outage while a job runs."""

import json
import signal
import time

from tests.worker.harness import SQLITE_ONLY, Harness, kill_group, pid_alive, wait_for

pytestmark = SQLITE_ONLY


def test_cancel_stops_the_command_within_two_heartbeats_and_nothing_is_uploaded_after(
    harness: Harness,
) -> None:
    job_id = harness.stepper_job("c", steps=1000, pause=0.1, heartbeat_interval=1)
    worker = harness.start_worker("w1")
    pid = wait_for(worker.command_pid, 30, "the command to start")
    wait_for(lambda: harness.step("c") >= 2, 30, "a checkpoint in storage")
    harness.cancel(job_id)
    canceled = time.monotonic()
    wait_for(lambda: not pid_alive(pid), 2 * 1 + 1, "the command to stop")
    assert time.monotonic() - canceled <= 2 * 1 + 0.5
    wait_for(lambda: "job ended: lost" in worker.output(), 10, "the worker to drop the job")
    stored = harness.objects("c/")
    time.sleep(2)
    assert harness.objects("c/") == stored
    assert not any(key.startswith("c/out/") for key in stored)
    state = worker.state()
    assert state is not None
    assert state["past_jobs"][-1]["outcome"] == "lost"
    assert "reported" not in worker.output()


def test_sigterm_releases_the_job_and_another_worker_finishes_it_from_the_checkpoint(
    harness: Harness,
) -> None:
    job_id = harness.stepper_job("t", steps=30, pause=0.2)
    first = harness.start_worker("w1")
    wait_for(lambda: harness.step("t") >= 5, 30, "some progress in storage")
    first.process.send_signal(signal.SIGTERM)
    assert first.wait_exit(20) == 0, first.output()
    assert "stopping at step" in first.output()
    saved = harness.step("t")
    kinds = [event["kind"] for event in harness.events(job_id)]
    assert kinds[-1] == "released", kinds
    harness.start_worker("w2")
    harness.wait_status(job_id, "completed", timeout=60)
    result = json.loads(harness.objects("t/out/result.json")["t/out/result.json"])
    assert result["resumed_from"] == saved >= 5


def test_a_killed_worker_s_job_is_finished_by_another_after_the_heartbeat_timeout(
    harness: Harness,
) -> None:
    job_id = harness.stepper_job("k", steps=25, pause=0.2, heartbeat_interval=1)
    first = harness.start_worker("w1")
    command = wait_for(first.command_pid, 30, "the command to start")
    wait_for(lambda: harness.step("k") >= 3, 30, "some progress in storage")
    kill_group(first.process.pid)
    kill_group(command)
    first.process.wait(10)
    saved = harness.step("k")
    harness.start_worker("w2")
    harness.wait_status(job_id, "completed", timeout=60)
    assert "taken_over" in [event["kind"] for event in harness.events(job_id)]
    result = json.loads(harness.objects("k/out/result.json")["k/out/result.json"])
    assert result["resumed_from"] >= saved >= 3
