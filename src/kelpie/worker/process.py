"""The job's command: its own process group, its output, and how it is stopped.

The command runs in a new session, so a signal to its group reaches every process it started
(a shell script's children too) and never the worker itself. When the command's main process
ends, whatever it left behind in its group is killed, so nothing keeps writing into the
folders the worker is about to upload or clear.
"""

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from kelpie.worker.logs import OUTPUT_LOGGER

logger = logging.getLogger("kelpie.worker.process")
output_logger = logging.getLogger(OUTPUT_LOGGER)

_CHUNK = 64 * 1024
_DRAIN_AFTER_EXIT_S = 5.0
EXIT_NOT_FOUND = 127
EXIT_NOT_EXECUTABLE = 126


def job_environment(
    base: Mapping[str, str], job_environment: Mapping[str, str], extra: Mapping[str, str]
) -> dict[str, str]:
    """The worker's environment, then the job's (the job wins), then what the worker adds."""
    return {**base, **job_environment, **extra}


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class JobProcess:
    """A started command. ``wait()`` gives its exit code (negative: the signal that ended it)."""

    def __init__(self, process: asyncio.subprocess.Process, log: BinaryIO) -> None:
        self._process = process
        self._log = log
        self._pump = asyncio.create_task(self._copy_output(), name="job-output")
        self._exited = asyncio.create_task(self._reap(), name="job-exit")

    @property
    def pid(self) -> int:
        return self._process.pid

    @classmethod
    async def start(
        cls, argv: Sequence[str], env: Mapping[str, str], cwd: Path, log_path: Path
    ) -> "JobProcess":
        """Raises ``OSError`` if the command cannot be started (e.g. it does not exist)."""
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("ab")
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                cwd=cwd,
                env=dict(env),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            log.close()
            raise
        return cls(process, log)

    async def _copy_output(self) -> None:
        """Each line to the worker's output (tagged with the job) and to the job's log file."""
        stream = self._process.stdout
        if stream is None:
            return
        pending = b""
        while chunk := await stream.read(_CHUNK):
            self._log.write(chunk)
            self._log.flush()
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                output_logger.info("%s", line.decode("utf-8", "replace").rstrip("\r"))
        if pending:
            output_logger.info("%s", pending.decode("utf-8", "replace"))

    def signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, sig)

    async def wait(self) -> int:
        """The exit code; cancelling the caller leaves the command running."""
        return await asyncio.shield(self._exited)

    async def _reap(self) -> int:
        returncode = await self._process.wait()
        self.signal_group(signal.SIGKILL)
        try:
            await asyncio.wait_for(asyncio.shield(self._pump), _DRAIN_AFTER_EXIT_S)
        except TimeoutError:
            self._pump.cancel()
            logger.warning("the command's output was still open after it exited; stopped reading")
        self._log.close()
        return returncode

    async def stop(self, steps: Sequence[tuple[signal.Signals, float]]) -> int:
        """Sends each signal to the group in turn, waiting up to its grace period for the
        command to exit; SIGKILL after the last step. Returns the exit code."""
        for sig, grace in steps:
            if self._exited.done():
                break
            logger.info("sending %s to the command's process group", sig.name)
            self.signal_group(sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._exited), grace)
        if not self._exited.done():
            logger.warning("the command did not stop; sending SIGKILL")
            self.signal_group(signal.SIGKILL)
        return await self.wait()
