import asyncio
import logging
import signal
import sys
import time
from pathlib import Path

import pytest

from kelpie.worker.logs import OUTPUT_LOGGER
from kelpie.worker.process import JobProcess, describe_exit, job_environment
from tests.worker.harness import pid_alive


def test_the_job_environment_wins_and_the_worker_adds_its_own() -> None:
    merged = job_environment(
        {"PATH": "/bin", "A": "worker", "KELPIE_JOB_ID": "from-worker-env"},
        {"A": "job", "B": "job"},
        {"KELPIE_JOB_ID": "j1"},
    )
    assert merged == {"PATH": "/bin", "A": "job", "B": "job", "KELPIE_JOB_ID": "j1"}


def test_exit_descriptions() -> None:
    assert describe_exit(3) == "exit code 3"
    assert describe_exit(-signal.SIGTERM) == "killed by SIGTERM"


def test_output_goes_line_by_line_to_the_log_and_the_log_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    script = "import sys; print('one'); print('two', file=sys.stderr); sys.stdout.write('three')"
    caplog.set_level(logging.INFO, OUTPUT_LOGGER)

    async def run() -> int:
        process = await JobProcess.start(
            [sys.executable, "-c", script], {}, tmp_path, tmp_path / "job.log"
        )
        return await process.wait()

    assert asyncio.run(run()) == 0
    lines = [r.getMessage() for r in caplog.records if r.name == OUTPUT_LOGGER]
    assert sorted(lines) == ["one", "three", "two"]
    assert sorted((tmp_path / "job.log").read_text().split()) == ["one", "three", "two"]


def test_a_command_that_ignores_signals_is_killed(tmp_path: Path) -> None:
    asyncio.run(_ignores_signals(tmp_path))


async def _ignores_signals(tmp_path: Path) -> None:
    script = (
        "import signal, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = await JobProcess.start(
        [sys.executable, "-c", script], {}, tmp_path, tmp_path / "job.log"
    )
    await asyncio.sleep(0.5)
    started = time.monotonic()
    code = await process.stop([(signal.SIGINT, 0.3), (signal.SIGTERM, 0.3)])
    assert code == -signal.SIGKILL
    assert time.monotonic() - started < 3


def test_the_whole_group_is_stopped(tmp_path: Path) -> None:
    asyncio.run(_whole_group(tmp_path))


async def _whole_group(tmp_path: Path) -> None:
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    log = tmp_path / "job.log"
    process = await JobProcess.start([sys.executable, "-c", script], {}, tmp_path, log)
    await asyncio.sleep(1.0)
    child = int(log.read_text().split()[0])
    await process.stop([(signal.SIGTERM, 2.0)])
    await asyncio.sleep(0.2)
    assert not pid_alive(child)
