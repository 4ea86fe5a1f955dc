"""Interruptions at random, as interruptible machines suffer them, while jobs run.

A strike hits a worker that holds a job: either a hard kill (SIGKILL to the worker's whole
process tree: the machine vanished, nothing is saved or reported) or a graceful interruption
(SIGTERM: the worker forwards it to the job, which saves its state, then releases the job).
The pool has the worker's replacement taking work before the strike (``WorkerPool.strike``).

Strikes come only while no job waits in the queue: a replacement would otherwise take a
waiting job first, and the interrupted one would wait for a free machine, so that the time
lost would measure the queue rather than the interruption.
"""

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from kelpie.client import ApiError, KelpieClient
from kelpie.jobs import JobStatus
from kelpie.platform.workers import Slot, WorkerPool
from kelpie.report import InterruptionKind


@dataclass(frozen=True, kw_only=True)
class ChaosSettings:
    min_interval_s: float = 0.5
    max_interval_s: float = 3.0
    hard_share: float = 0.5
    """The share of strikes that are hard kills."""
    min_hold_s: float = 2.0
    """A worker is struck only once it has held its job this long, so that every job makes
    progress (a checkpoint) between strikes, however many strike it."""
    max_strikes: int | None = None
    """Strikes after which the storm ends (``None``: it lasts until the jobs end)."""
    seed: int | None = None


@dataclass(frozen=True)
class Target:
    slot: Slot
    machine_id: str
    job_id: str


@dataclass(frozen=True)
class Strike:
    at: datetime
    """When the worker was killed or sent SIGTERM."""
    kind: InterruptionKind
    slot: int
    machine_id: str
    job_id: str


def choose(
    targets: list[Target], rng: random.Random, hard_share: float
) -> tuple[Target, InterruptionKind] | None:
    """Which worker to strike and how; ``None`` when no worker holds a job."""
    if not targets:
        return None
    target = rng.choice(sorted(targets, key=lambda each: each.slot.index))
    kind = InterruptionKind.HARD if rng.random() < hard_share else InterruptionKind.GRACEFUL
    return target, kind


async def targets(client: KelpieClient, pool: WorkerPool, container_group_id: str) -> list[Target]:
    """Live workers that hold a running job, if no job is waiting in the queue."""
    if await client.count(JobStatus.PENDING.value, container_group_id):
        return []
    live = pool.live_machines()
    running = await client.jobs(container_group_id, JobStatus.RUNNING.value)
    return [
        Target(live[job.machine_id], job.machine_id, job.id)
        for job in running
        if job.machine_id in live
    ]


class Chaos:
    def __init__(
        self,
        client: KelpieClient,
        pool: WorkerPool,
        container_group_id: str,
        settings: ChaosSettings,
    ) -> None:
        self._client = client
        self._pool = pool
        self._group = container_group_id
        self._settings = settings
        self._rng = random.Random(settings.seed)
        self._striking: set[asyncio.Task[None]] = set()
        self._first_seen: dict[tuple[str, str], float] = {}
        self.strikes: list[Strike] = []

    def count(self, kind: InterruptionKind) -> int:
        return sum(1 for strike in self.strikes if strike.kind is kind)

    async def run(self, until: asyncio.Event) -> None:
        """Strikes at random intervals until ``until`` is set, then lets running strikes end."""
        settings = self._settings
        try:
            while not until.is_set() and not self._spent():
                pause = self._rng.uniform(settings.min_interval_s, settings.max_interval_s)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(until.wait(), pause)
                    return
                try:
                    found = await targets(self._client, self._pool, self._group)
                except ApiError:
                    continue
                choice = choose(self._held_long_enough(found), self._rng, settings.hard_share)
                if choice is not None:
                    task = asyncio.create_task(self._strike(*choice))
                    self._striking.add(task)
                    task.add_done_callback(self._striking.discard)
        finally:
            await asyncio.gather(*list(self._striking), return_exceptions=True)

    def _spent(self) -> bool:
        limit = self._settings.max_strikes
        return limit is not None and len(self.strikes) + len(self._striking) >= limit

    def _held_long_enough(self, found: list[Target]) -> list[Target]:
        """Targets that have held their job ``min_hold_s`` since chaos first saw them hold it."""
        now = time.monotonic()
        for target in found:
            self._first_seen.setdefault((target.machine_id, target.job_id), now)
        return [
            target
            for target in found
            if now - self._first_seen[(target.machine_id, target.job_id)]
            >= self._settings.min_hold_s
        ]

    async def _strike(self, target: Target, kind: InterruptionKind) -> None:
        hard = kind is InterruptionKind.HARD
        struck = await self._pool.strike(target.slot, target.machine_id, hard)
        if struck is not None:
            self.strikes.append(
                Strike(datetime.now(UTC), kind, target.slot.index, target.machine_id, target.job_id)
            )
