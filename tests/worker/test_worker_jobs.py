"""Whole jobs through the real API, moto's S3 and ``kelpie worker`` subprocesses."""

import json
import sys

import pytest

from tests.worker.fakes import broken_store
from tests.worker.harness import SQLITE_ONLY, Harness


@pytest.mark.parametrize(
    "server", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_before_during_after_completes_with_every_output_in_storage(harness: Harness) -> None:
    harness.put("p/in/a.txt", b"alpha")
    harness.put("p/in/deep/b.txt", b"beta")
    job_id = harness.stepper_job("p", steps=5, pause=0.2)
    worker = harness.start_worker("w1")
    harness.wait_status(job_id, "completed", timeout=60)
    outputs = harness.objects("p/out/")
    assert outputs["p/out/copies/a.txt"] == b"ALPHA"
    assert outputs["p/out/copies/deep/b.txt"] == b"BETA"
    assert json.loads(outputs["p/out/result.json"]) == {"resumed_from": 0, "steps": 5}
    assert b"done" in outputs["p/out/kelpie-job.log"]
    assert harness.step("p") == 5
    state = worker.state()
    assert state is not None
    assert state["past_jobs"][-1] | {"started": 0, "ended": 0, "pid": 0} == {
        "id": job_id,
        "started": 0,
        "ended": 0,
        "pid": 0,
        "phase": "done",
        "exit_code": 0,
        "outcome": "completed",
    }
    assert list((worker.workdir / "data" / "out").iterdir()) == []


@SQLITE_ONLY
def test_a_job_that_exits_1_three_times_fails_on_three_machines(harness: Harness) -> None:
    job_id = harness.submit(
        command=sys.executable,
        arguments=["-c", "import sys; print('no luck'); sys.exit(1)"],
        max_failures=3,
        sync={
            "after": [
                {
                    "bucket": harness.bucket,
                    "prefix": "f/out/",
                    "local_path": "out",
                    "direction": "upload",
                }
            ]
        },
    )
    workers = [harness.start_worker(f"w{n}", MAX_JOB_FAILURES="1") for n in range(3)]
    harness.wait_status(job_id, "failed", timeout=60)
    failing = [
        e["machine_id"] for e in harness.events(job_id) if e["kind"] in ("attempt_failed", "failed")
    ]
    assert len(failing) == 3
    assert len(set(failing)) == 3
    for worker in workers:
        assert worker.wait_exit(20) == 4, worker.output()
        assert "exiting with code 4" in worker.output()
    assert b"no luck" in harness.objects("f/out/")["f/out/kelpie-job.log"]


@SQLITE_ONLY
def test_a_failing_upload_never_yields_completed(harness: Harness) -> None:
    script = harness.folder / "writes.py"
    script.write_text("import pathlib\n(pathlib.Path('out') / 'r.txt').write_text('r')\n")
    job_id = harness.submit(
        command=sys.executable,
        arguments=[str(script)],
        max_failures=1,
        sync={
            "after": [
                {
                    "bucket": harness.bucket,
                    "prefix": "x/",
                    "local_path": "out",
                    "direction": "upload",
                }
            ]
        },
    )
    with broken_store() as url:
        worker = harness.start_worker("w1", AWS_ENDPOINT_URL=url)
        harness.wait_status(job_id, "failed", timeout=90)
    assert "outputs did not reach storage" in worker.output()
    assert [e["kind"] for e in harness.events(job_id)][-1] == "failed"


@SQLITE_ONLY
def test_a_key_with_dot_dot_is_not_written_outside_local_path(harness: Harness) -> None:
    harness.put("k/in/ok.txt", b"fine")
    harness.put("k/in/../../escape.txt", b"bad")
    harness.put("k/in/../escape.txt", b"bad")
    job_id = harness.stepper_job("k", steps=1, pause=0)
    worker = harness.start_worker("w1")
    harness.wait_status(job_id, "completed", timeout=60)
    assert harness.objects("k/out/copies/") == {"k/out/copies/ok.txt": b"FINE"}
    assert not (worker.workdir / "escape.txt").exists()
    assert not (worker.workdir / "data" / "escape.txt").exists()
    assert not list(harness.folder.rglob("escape.txt"))
    assert "escape.txt" in worker.output()


@SQLITE_ONLY
def test_a_legacy_job_gets_its_folders_by_environment(harness: Harness) -> None:
    harness.put("l/in/x.txt", b"legacy")
    script = harness.folder / "legacy.py"
    script.write_text(
        "import os, pathlib\n"
        "text = (pathlib.Path(os.environ['INPUT_DIR']) / 'x.txt').read_text()\n"
        "(pathlib.Path(os.environ['CHECKPOINT_DIR']) / 'c.txt').write_text('ck')\n"
        "(pathlib.Path(os.environ['OUTPUT_DIR']) / 'y.txt').write_text(text + '!')\n"
    )
    job_id = harness.submit(
        command=sys.executable,
        arguments=[str(script)],
        input_bucket=harness.bucket,
        input_prefix="l/in/",
        checkpoint_bucket=harness.bucket,
        checkpoint_prefix="l/ck/",
        output_bucket=harness.bucket,
        output_prefix="l/out/",
    )
    harness.start_worker("w1")
    harness.wait_status(job_id, "completed", timeout=60)
    assert harness.objects("l/out/y.txt") == {"l/out/y.txt": b"legacy!"}
    assert harness.objects("l/ck/") == {"l/ck/c.txt": b"ck"}
