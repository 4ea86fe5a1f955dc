"""The worker's loop: take a job, run it, take the next, until told to stop or a limit says
this machine should go.
"""

import asyncio
import logging
import math
import time
from collections.abc import Mapping

from kelpie.jobs import Job
from kelpie.storage import StorageError, storage_from_env
from kelpie.worker.attempt import Attempt, Outcome, WorkerTools
from kelpie.worker.client import WorkerApi
from kelpie.worker.errors import ApiError, LeaseLost, SettingsError
from kelpie.worker.exit_codes import ExitCode
from kelpie.worker.logs import job_context
from kelpie.worker.machine import IDLE_COST, machine_control
from kelpie.worker.races import Interrupted, run_unless, sleep_unless
from kelpie.worker.settings import WorkerSettings
from kelpie.worker.shutdown import Shutdown
from kelpie.worker.state_file import StateFile, WorkerState
from kelpie.worker.sync import SyncSettings, TransferTracker

logger = logging.getLogger("kelpie.worker")

PLATFORM_GRACE_S = 60.0
"""After asking SaladCloud for a new machine, how long to wait for it to stop this one."""


class Agent:
    def __init__(self, tools: WorkerTools) -> None:
        self.tools = tools
        self.failed_jobs = 0

    @property
    def _stopping(self) -> bool:
        return self.tools.shutdown.requested.is_set()

    async def run(self) -> ExitCode:
        tools = self.tools
        settings = tools.settings
        logger.info(
            "worker %s taking work for group %s from %s",
            settings.machine_id,
            settings.container_group_id,
            settings.api_url,
        )
        await tools.machine.set_deletion_cost(IDLE_COST)
        tools.state.set_status("idle")
        idle_since = time.monotonic()
        while not self._stopping:
            limit = settings.max_time_with_no_work_s
            remaining = limit - (time.monotonic() - idle_since) if limit else None
            if remaining is not None and remaining <= 0:
                return await self._leave(ExitCode.IDLE, f"no work for {limit:.0f} s")
            job = await self._next_job(remaining)
            if job is None:
                continue
            outcome = await self._work_on(job)
            idle_since = time.monotonic()
            if outcome is Outcome.FAILED:
                self.failed_jobs += 1
                if self.failed_jobs >= settings.max_job_failures:
                    return await self._leave(
                        ExitCode.NEEDS_NEW_MACHINE, f"{self.failed_jobs} jobs failed here"
                    )
            if settings.recreate_between_jobs and not self._stopping:
                return await self._leave(ExitCode.RECREATE, "a fresh container for each job")
        logger.info("stopped")
        return ExitCode.OK

    async def _next_job(self, remaining: float | None) -> Job | None:
        """One poll. Sleeps the poll interval after an API that ignores ``wait`` (the original
        answers at once) or that cannot be reached."""
        settings = self.tools.settings
        wait_s = settings.long_poll_s
        if remaining is not None:
            wait_s = min(wait_s, math.ceil(remaining))
        try:
            job, elapsed = await run_unless(
                self.tools.api.take_work(wait_s), self.tools.shutdown.requested
            )
        except Interrupted:
            return None
        except ApiError as exc:
            logger.error("could not ask for work: %s", exc)
            await sleep_unless(self.tools.shutdown.requested, settings.poll_interval_s)
            return None
        if job is None and (wait_s == 0 or elapsed < wait_s / 2):
            pause = settings.poll_interval_s
            if remaining is not None:
                pause = min(pause, max(remaining - elapsed, 0.0))
            await sleep_unless(self.tools.shutdown.requested, pause)
        return job

    async def _work_on(self, job: Job) -> Outcome:
        tools = self.tools
        with job_context(job.id):
            logger.info(
                "took job: %s (heartbeat every %d s, %d failures so far)",
                job.command,
                job.heartbeat_interval,
                job.num_failures,
            )
            tools.state.job_started(job.id)
            try:
                outcome = await Attempt(job, tools).run()
            except Exception:
                logger.exception("the attempt broke; reporting it failed")
                outcome = await self._report_broken(job)
            tools.state.job_ended(outcome.value)
        await tools.machine.set_deletion_cost(IDLE_COST)
        return outcome

    async def _report_broken(self, job: Job) -> Outcome:
        try:
            await asyncio.shield(self.tools.api.report(job.id, "failed"))
        except LeaseLost:
            return Outcome.LOST
        except ApiError as exc:
            logger.error("could not report the failure: %s", exc)
        return Outcome.FAILED

    async def _leave(self, code: ExitCode, reason: str) -> ExitCode:
        """Asks the platform for a new machine (or container); elsewhere, exits with ``code``."""
        tools = self.tools
        tools.state.set_status(f"leaving: {reason}")
        if code is ExitCode.RECREATE:
            asked = await tools.machine.recreate()
        else:
            asked = await tools.machine.reallocate(reason)
        if not asked:
            logger.warning("%s: exiting with code %d for the orchestrator", reason, code)
            return code
        if await sleep_unless(tools.shutdown.requested, PLATFORM_GRACE_S):
            return ExitCode.OK
        return code


async def run_worker(settings: WorkerSettings, environ: Mapping[str, str]) -> ExitCode:
    """Builds the worker's tools from its settings and runs the loop until it ends."""
    try:
        storage = storage_from_env(environ)
        sync = SyncSettings.from_env(environ)
    except (StorageError, ValueError) as exc:
        raise SettingsError(str(exc)) from exc
    shutdown = Shutdown()
    shutdown.install()
    api = WorkerApi(
        base_url=settings.api_url,
        api_key=settings.api_key,
        machine_id=settings.machine_id,
        container_group_id=settings.container_group_id,
        max_retries=settings.max_retries,
    )
    machine = await machine_control(settings.on_saladcloud, settings.metadata_url)
    tracker = TransferTracker()
    state = StateFile(
        settings.state_file,
        WorkerState(machine_id=settings.machine_id, container_group_id=settings.container_group_id),
        transfers=tracker.snapshot,
    )
    tools = WorkerTools(
        settings=settings,
        api=api,
        storage=storage,
        sync=sync,
        tracker=tracker,
        machine=machine,
        state=state,
        shutdown=shutdown,
    )
    try:
        return await Agent(tools).run()
    finally:
        state.set_status("stopped")
        shutdown.uninstall()
        await api.aclose()
        await machine.aclose()
        storage.close()
