"""The series-sum workload, run as a job's command would be: a subprocess in its own folder."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "series-sum" / "main.py"


def exact_sum(start: int, end: int) -> int:
    return end * (end + 1) // 2 - (start - 1) * start // 2


def environment(step: float = 0.001, interval: float = 0.01) -> dict[str, str]:
    return {
        "STEP_RUNNING_TIME": str(step),
        "STATE_SAVING_INTERVAL": str(interval),
        "KELPIE_MACHINE_ID": "machine-a",
        "PATH": "/usr/bin:/bin",
    }


def write_input(folder: Path, text: str) -> None:
    (folder / "data" / "input").mkdir(parents=True)
    (folder / "data" / "input" / "input.txt").write_text(text)


def run(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def log_lines(folder: Path) -> list[str]:
    return (folder / "data" / "state" / "progress.log").read_text().splitlines()


def test_a_fresh_run_writes_the_exact_sum_and_logs_its_checkpoints(tmp_path: Path) -> None:
    write_input(tmp_path, "3\n250\n")

    result = run(tmp_path, environment())

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "output" / "sum.txt").read_text() == f"{exact_sum(3, 250)}\n"
    state = json.loads((tmp_path / "data" / "state" / "state.json").read_text())
    assert state == {"step": 248, "partial_sum": exact_sum(3, 250)}
    lines = log_lines(tmp_path)
    assert "started on machine-a" in lines[0]
    assert any(" machine-a step " in line and "%" in line for line in lines[1:-1])
    assert lines[-1].endswith(f"done: sum of 3..250 is {exact_sum(3, 250)}")
    assert not list((tmp_path / "data").glob(".*.tmp"))


def test_a_run_resumes_from_the_saved_state_and_logs_the_machine(tmp_path: Path) -> None:
    write_input(tmp_path, "1\n100\n")
    state = tmp_path / "data" / "state"
    state.mkdir(parents=True)
    (state / "state.json").write_text(json.dumps({"step": 60, "partial_sum": exact_sum(1, 60)}))
    env = {**environment(), "KELPIE_MACHINE_ID": "", "SALAD_MACHINE_ID": "machine-b"}

    result = run(tmp_path, env)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "output" / "sum.txt").read_text() == f"{exact_sum(1, 100)}\n"
    assert log_lines(tmp_path)[0].endswith("machine-b resumed on machine-b at step 60")


def test_sigterm_saves_the_last_finished_step_before_exiting(tmp_path: Path) -> None:
    write_input(tmp_path, "1\n1000000\n")
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT)],
        cwd=tmp_path,
        env=environment(step=0.01, interval=3600),
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert "started on machine-a" in process.stdout.readline()
    time.sleep(0.3)

    process.send_signal(signal.SIGTERM)

    assert process.wait(timeout=10) == 128 + signal.SIGTERM
    saved = json.loads((tmp_path / "data" / "state" / "state.json").read_text())
    assert saved["step"] > 0
    assert saved["partial_sum"] == exact_sum(1, saved["step"])
    assert f"stopped by signal {signal.SIGTERM} at step {saved['step']}" in log_lines(tmp_path)[-1]
    assert not (tmp_path / "data" / "output" / "sum.txt").exists()

    resumed = run(tmp_path, {**environment(step=0.0), "KELPIE_MACHINE_ID": "machine-c"})
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed on machine-c at step {saved['step']}" in resumed.stdout


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (None, "cannot read"),
        ("10\n5\n", "start 10 is greater than end 5"),
        ("1\n", "must hold start and end on two lines"),
        ("one\ntwo\n", "must be integers"),
    ],
)
def test_bad_input_ends_cleanly_with_an_error_file(
    tmp_path: Path, text: str | None, reason: str
) -> None:
    if text is not None:
        write_input(tmp_path, text)

    result = run(tmp_path, environment())

    assert result.returncode == 0
    assert reason in (tmp_path / "data" / "output" / "error.txt").read_text()
    assert reason in log_lines(tmp_path)[-1]
    assert not (tmp_path / "data" / "output" / "sum.txt").exists()
