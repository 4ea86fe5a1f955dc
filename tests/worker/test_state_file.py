import json
import threading
from pathlib import Path

from kelpie.worker.state_file import PAST_JOBS_KEPT, StateFile, WorkerState


def test_a_job_moves_from_current_to_past(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json", WorkerState("m", "g"), lambda: [{"key": "k"}])
    state.job_started("job-1")
    state.job_running(1234)
    running = json.loads(state.path.read_text())
    assert running["current_job"]["id"] == "job-1"
    assert running["current_job"]["pid"] == 1234
    assert running["transfers"] == [{"key": "k"}]
    state.job_exited(1)
    state.job_ended("failed")
    ended = json.loads(state.path.read_text())
    assert ended["current_job"] is None
    assert ended["failed_jobs"] == 1
    assert ended["past_jobs"][0] | {"started": None, "ended": None} == {
        "id": "job-1",
        "started": None,
        "ended": None,
        "phase": "done",
        "pid": 1234,
        "exit_code": 1,
        "outcome": "failed",
    }


def test_past_jobs_are_bounded(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json", WorkerState("m", "g"))
    for number in range(PAST_JOBS_KEPT + 5):
        state.job_started(f"job-{number}")
        state.job_ended("completed")
    past = json.loads(state.path.read_text())["past_jobs"]
    assert len(past) == PAST_JOBS_KEPT
    assert past[-1]["id"] == f"job-{PAST_JOBS_KEPT + 4}"


def test_readers_never_see_a_partial_file(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "state.json", WorkerState("m", "g"))
    state.state.status = "x" * 200_000
    state.write()
    done = threading.Event()
    bad: list[str] = []

    def read() -> None:
        while not done.is_set():
            try:
                json.loads(state.path.read_text())
            except json.JSONDecodeError as exc:
                bad.append(str(exc))

    reader = threading.Thread(target=read)
    reader.start()
    for number in range(200):
        state.set_status(str(number) * 100_000)
    done.set()
    reader.join()
    assert bad == []
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
