"""Races the database must settle: one winner, and a history that matches the final state."""

import asyncio

import pytest
from sqlalchemy import literal, update

from kelpie.jobs import EventKind, JobStatus
from kelpie.store import JobStore, UserRecord
from kelpie.store.clock import seconds_ago
from kelpie.store.errors import Conflict
from kelpie.store.schema import jobs
from tests.store.factories import submission

pytestmark = pytest.mark.anyio

MACHINES = 20


async def _silence(store: JobStore, job_id: str) -> None:
    """As if the holder had stopped heartbeating a minute ago, by the database's clock."""
    async with store._engines.writer.begin() as connection:
        await connection.execute(
            update(jobs).where(jobs.c.id == job_id).values(heartbeat=seconds_ago(literal(60)))
        )


async def test_one_machine_takes_over_a_silent_job(
    store: JobStore, user: UserRecord, group: str
) -> None:
    [job] = await store.submit(user.id, [submission(group)])
    await store.claim(user.id, group, "gone")
    await _silence(store, job.id)

    taken = await asyncio.gather(
        *(store.claim(user.id, group, f"machine-{n}") for n in range(MACHINES))
    )

    winners = [claimed for claimed in taken if claimed is not None]
    assert len(winners) == 1
    events = await store.events(user.id, job.id)
    assert [event.kind for event in events].count(EventKind.TAKEN_OVER) == 1
    assert events[-1].machine_id == winners[0].machine_id


async def test_the_holder_and_its_owner_race_to_end_a_job(
    store: JobStore, user: UserRecord, group: str
) -> None:
    for _ in range(5):
        [job] = await store.submit(user.id, [submission(group)])
        await store.claim(user.id, group, "m1")

        completed, canceled = await asyncio.gather(
            store.complete(user.id, job.id, "m1", group),
            store.cancel(user.id, job.id),
            return_exceptions=True,
        )

        final = await store.get(user.id, job.id)
        last = (await store.events(user.id, job.id))[-1]
        if isinstance(completed, Conflict):
            assert final.status is JobStatus.CANCELED
            assert last.kind is EventKind.CANCELED
        else:
            assert isinstance(canceled, Conflict)
            assert final.status is JobStatus.COMPLETED
            assert last.kind is EventKind.COMPLETED


async def test_concurrent_heartbeats_are_all_counted(
    store: JobStore, user: UserRecord, group: str
) -> None:
    [job] = await store.submit(user.id, [submission(group)])
    await store.claim(user.id, group, "m1")

    answers = await asyncio.gather(
        *(store.heartbeat(user.id, job.id, "m1", group) for _ in range(MACHINES))
    )

    assert set(answers) == {JobStatus.RUNNING}
    assert (await store.get(user.id, job.id)).num_heartbeats == MACHINES
