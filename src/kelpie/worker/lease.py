"""A taken job is a lease: it stays ours only while heartbeats keep it.

Heartbeats run as a background task for as long as the job is in hand (download, command,
final uploads). The lease is *lost* when the API says so (``canceled`` on a heartbeat, 409/404
on any report); from then on the worker stops the command, uploads nothing more and reports
nothing more.

A heartbeat that gets no answer does *not* lose the lease: the command keeps running and
``during`` uploads go on, and the worker keeps trying every interval. If the API itself is down,
no other machine can take the job either; when it comes back, the first heartbeat that gets
through decides (``canceled`` fences this machine off at once). See docs/worker.md.
"""

import asyncio
import contextlib
import logging
import time
from types import TracebackType

from kelpie.jobs import Job
from kelpie.worker.backoff import Backoff
from kelpie.worker.client import WorkerApi
from kelpie.worker.errors import ApiError, ApiUnavailable, LeaseLost
from kelpie.worker.machine import MachineControl, running_cost

logger = logging.getLogger("kelpie.worker.lease")

_MIN_TIMEOUT_S = 2.0
_MAX_TIMEOUT_S = 10.0


class Lease:
    def __init__(self, api: WorkerApi, job: Job, machine: MachineControl) -> None:
        self._api = api
        self._job = job
        self._machine = machine
        self._interval = float(job.heartbeat_interval)
        self._timeout = min(max(self._interval, _MIN_TIMEOUT_S), _MAX_TIMEOUT_S)
        self._task: asyncio.Task[None] | None = None
        self._last_success = time.monotonic()
        self.heartbeats = 0
        self.lost = asyncio.Event()

    async def __aenter__(self) -> "Lease":
        self._task = asyncio.create_task(self._beat(), name=f"heartbeat-{self._job.id}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def mark_lost(self, reason: str) -> None:
        if not self.lost.is_set():
            logger.warning("lease lost: %s", reason)
            self.lost.set()

    async def _beat(self) -> None:
        """One heartbeat per interval, on a fixed schedule: a slow answer does not push the
        next heartbeat back (the API gives up on a holder after two silent intervals)."""
        next_beat = time.monotonic()
        while not self.lost.is_set():
            next_beat += self._interval
            await asyncio.sleep(max(0.0, next_beat - time.monotonic()))
            next_beat = max(next_beat, time.monotonic() - self._interval)
            try:
                await self._api.heartbeat(self._job.id, self._timeout)
            except LeaseLost as exc:
                self.mark_lost(str(exc))
                return
            except ApiError as exc:
                silent = time.monotonic() - self._last_success
                logger.warning("heartbeat failed (%s); no heartbeat for %.0f s", exc, silent)
                continue
            self._last_success = time.monotonic()
            self.heartbeats += 1
            logger.debug("heartbeat %d sent", self.heartbeats)
            await self._machine.set_deletion_cost(running_cost(self.heartbeats))

    async def confirm(self) -> None:
        """One heartbeat now, retried until answered: is the job still ours?

        Used before final uploads, so a machine that was fenced off while the API was out of
        reach does not overwrite the outputs of the machine that took the job over.
        """
        backoff = Backoff(cap=self._interval)
        attempt = 0
        while True:
            try:
                await self._api.heartbeat(self._job.id, self._timeout)
                return
            except LeaseLost as exc:
                self.mark_lost(str(exc))
                raise
            except ApiUnavailable as exc:
                logger.warning("cannot confirm the lease yet (%s)", exc)
                await asyncio.sleep(backoff.delay(attempt))
                attempt += 1
