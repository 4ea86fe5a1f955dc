"""One attempt at one job: from clearing its folders to its one final report.

clear folders ─ download before ─ DuringSync( run command ) ─┬ exit 0: flush, confirm lease,
                                                              │   upload after, report completed
                                                              ├ exit ≠ 0: flush, report failed
                                                              ├ shutdown: forward signal, wait
                                                              │   the grace period, flush, release
                                                              └ lease lost: stop the command,
                                                                  abort uploads, report nothing
"""

import asyncio
import logging
import os
import signal
from collections.abc import Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from kelpie.jobs import Job
from kelpie.storage import Storage, StorageError
from kelpie.worker.client import FinalReport, WorkerApi
from kelpie.worker.errors import LeaseLost
from kelpie.worker.folders import SyncPlan, clear_folders, plan_for
from kelpie.worker.lease import Lease
from kelpie.worker.machine import UPLOADING_COST, MachineControl
from kelpie.worker.process import (
    EXIT_NOT_EXECUTABLE,
    EXIT_NOT_FOUND,
    JobProcess,
    describe_exit,
    job_environment,
)
from kelpie.worker.races import Interrupted, first_set, run_unless
from kelpie.worker.settings import WorkerSettings
from kelpie.worker.shutdown import Shutdown
from kelpie.worker.state_file import StateFile
from kelpie.worker.sync import (
    DuringSync,
    SyncError,
    SyncSettings,
    TransferTracker,
    download_all,
    upload_all,
)

logger = logging.getLogger("kelpie.worker.attempt")
T = TypeVar("T")

JOB_LOG_NAME = "kelpie-job.log"
"""The command's output, uploaded beside the job's first ``after`` prefix."""
STATE_REFRESH_S = 5.0
LOST_LEASE_STOP = ((signal.SIGINT, 2.0), (signal.SIGTERM, 3.0))
"""A fenced-off machine stops quickly: another machine may already be running the job."""


class Outcome(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    RELEASED = "released"
    LOST = "lost"


_REPORTS: dict[Outcome, FinalReport] = {
    Outcome.COMPLETED: "completed",
    Outcome.FAILED: "failed",
    Outcome.RELEASED: "release",
}


@dataclass(frozen=True, kw_only=True)
class WorkerTools:
    """What every attempt uses, made once by the agent."""

    settings: WorkerSettings
    api: WorkerApi
    storage: Storage
    sync: SyncSettings
    tracker: TransferTracker
    machine: MachineControl
    state: StateFile
    shutdown: Shutdown


class Attempt:
    def __init__(self, job: Job, tools: WorkerTools) -> None:
        self.job = job
        self.tools = tools
        self.plan: SyncPlan = plan_for(job, tools.settings.workdir)
        self.log_path = tools.settings.data_dir / "logs" / f"{job.id}.log"

    async def run(self) -> Outcome:
        settings = self.tools.settings
        folders = self.plan.folders(settings.workdir)
        keep = [settings.data_dir, settings.state_file]
        clear_folders(folders, keep)
        refresher = asyncio.create_task(self._refresh_state(), name="state-refresh")
        try:
            async with Lease(self.tools.api, self.job, self.tools.machine) as lease:
                try:
                    outcome = await self._hold(lease)
                except LeaseLost as exc:
                    lease.mark_lost(str(exc))
                    outcome = Outcome.LOST
        finally:
            refresher.cancel()
            clear_folders(folders, keep)
            self.log_path.unlink(missing_ok=True)
        logger.info("job ended: %s", outcome.value)
        return outcome

    async def _refresh_state(self) -> None:
        """Rewrites the state file now and then, so it shows transfers as they progress."""
        while True:
            await asyncio.sleep(STATE_REFRESH_S)
            self.tools.state.write()

    async def _hold(self, lease: Lease) -> Outcome:
        tools = self.tools
        tools.state.job_phase("downloading")
        try:
            await run_unless(
                download_all(
                    tools.storage,
                    self.plan.before,
                    tools.settings.workdir,
                    self.job.compression,
                    settings=tools.sync,
                    tracker=tools.tracker,
                ),
                lease.lost,
                tools.shutdown.requested,
            )
        except SyncError as exc:
            logger.error("download failed: %s", exc)
            return await self._report(Outcome.FAILED)
        except Interrupted:
            if lease.lost.is_set():
                raise LeaseLost("lease lost while downloading") from None
            return await self._report(Outcome.RELEASED)
        during = DuringSync(
            tools.storage,
            self.plan.during,
            tools.settings.workdir,
            self.job.compression,
            tools.sync,
            tools.tracker,
        )
        async with during:
            try:
                return await self._run_and_finish(lease, during)
            except LeaseLost:
                await during.abort()
                raise

    async def _held(self, lease: Lease, work: Coroutine[Any, Any, T]) -> T:
        """``work``, unless the lease is lost first (then ``LeaseLost``)."""
        try:
            return await run_unless(work, lease.lost)
        except Interrupted:
            raise LeaseLost("lease lost") from None

    async def _run_and_finish(self, lease: Lease, during: DuringSync) -> Outcome:
        returncode, interrupted = await self._run_command(lease)
        if interrupted:
            await self._flush(lease, during)
            return await self._report(Outcome.RELEASED)
        if returncode != 0:
            await self._flush(lease, during)
            await self._keep_log(lease)
            return await self._report(Outcome.FAILED)
        return await self._finish_success(lease, during)

    async def _run_command(self, lease: Lease) -> tuple[int, bool]:
        """The command's exit code, and whether the worker's shutdown stopped it early.

        Raises ``LeaseLost`` (after stopping the command) if the lease is lost first."""
        tools = self.tools
        extra = {
            "KELPIE_JOB_ID": self.job.id,
            "KELPIE_STATE_FILE": str(tools.settings.state_file),
            **self.plan.environment,
        }
        environment = job_environment(os.environ, self.job.environment, extra)
        argv = [self.job.command, *self.job.arguments]
        try:
            process = await JobProcess.start(
                argv, environment, tools.settings.workdir, self.log_path
            )
        except OSError as exc:
            logger.error("cannot start %r: %s", self.job.command, exc)
            missing = isinstance(exc, FileNotFoundError)
            return (EXIT_NOT_FOUND if missing else EXIT_NOT_EXECUTABLE), False
        logger.info("command started (pid %d): %s", process.pid, " ".join(argv))
        tools.state.job_running(process.pid)
        exited = asyncio.ensure_future(process.wait())
        stopped = asyncio.ensure_future(first_set(lease.lost, tools.shutdown.requested))
        try:
            await asyncio.wait({exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            await process.stop(LOST_LEASE_STOP)
            raise
        finally:
            stopped.cancel()
        if lease.lost.is_set():
            await process.stop(LOST_LEASE_STOP)
            raise LeaseLost("lease lost while the command ran")
        interrupted = not exited.done()
        if not interrupted:
            returncode = exited.result()
        else:
            sig = tools.shutdown.signal
            logger.info(
                "forwarding %s; waiting up to %.0f s for the command to save its work",
                sig.name,
                tools.settings.grace_period_s,
            )
            returncode = await process.stop([(sig, tools.settings.grace_period_s)])
        logger.info("command ended: %s", describe_exit(returncode))
        tools.state.job_exited(returncode)
        return returncode, interrupted

    async def _flush(self, lease: Lease, during: DuringSync) -> None:
        """Uploads what the command left in ``during`` folders: its best checkpoint so far."""
        self.tools.state.job_phase("flushing")
        try:
            await self._held(lease, during.flush())
        except SyncError as exc:
            logger.error("could not upload the last checkpoint: %s", exc)

    async def _finish_success(self, lease: Lease, during: DuringSync) -> Outcome:
        tools = self.tools
        tools.state.job_phase("uploading")
        await tools.machine.set_deletion_cost(UPLOADING_COST)
        try:
            await self._held(lease, during.flush())
            await lease.confirm()
            await self._held(
                lease,
                upload_all(
                    tools.storage,
                    self.plan.after,
                    tools.settings.workdir,
                    self.job.compression,
                    settings=tools.sync,
                    tracker=tools.tracker,
                ),
            )
        except SyncError as exc:
            logger.error("outputs did not reach storage, so the job is not complete: %s", exc)
            await self._keep_log(lease)
            return await self._report(Outcome.FAILED)
        await self._keep_log(lease)
        return await self._report(Outcome.COMPLETED)

    async def _keep_log(self, lease: Lease) -> None:
        """Uploads the command's output beside the first ``after`` prefix (best effort: the
        lines also went to the worker's own output)."""
        if not self.plan.after or not self.log_path.exists():
            return
        target = self.plan.after[0]
        key = target.prefix + JOB_LOG_NAME
        try:
            await self._held(lease, self.tools.storage.upload(self.log_path, target.bucket, key))
        except StorageError as exc:
            logger.warning("could not upload the job's log to %s/%s: %s", target.bucket, key, exc)

    async def _report(self, outcome: Outcome) -> Outcome:
        """Delivers the one final report; shielded so that cancelling the worker cannot lose it."""
        self.tools.state.job_phase(f"reporting {outcome.value}")
        try:
            await asyncio.shield(self.tools.api.report(self.job.id, _REPORTS[outcome]))
        except LeaseLost as exc:
            logger.warning("the API refused the %s report: %s", outcome.value, exc)
            return Outcome.LOST
        logger.info("reported %s", _REPORTS[outcome])
        return outcome
