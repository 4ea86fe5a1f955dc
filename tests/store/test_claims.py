"""Taking work: exactly once under concurrency, in the documented order, fenced on the holder."""

import asyncio
from collections import Counter

import anyio
import pytest

from kelpie.jobs import EventKind, JobStatus
from kelpie.store import JobStore, UserRecord
from kelpie.store.errors import Conflict
from tests.store.factories import submission

pytestmark = pytest.mark.anyio

JOBS = 500
CLAIMERS = 50
PROCESSES = 3
"""Engines standing for API processes that share one database."""


async def _claim_until_empty(store: JobStore, user_id: str, group: str, machine: str) -> list[str]:
    taken = []
    while True:
        job = await store.claim(user_id, group, machine)
        if job is not None:
            taken.append(job.id)
        elif not await store.has_claimable(user_id, group):
            return taken


async def test_each_job_is_taken_exactly_once(
    store: JobStore, user: UserRecord, group: str, database_url: str
) -> None:
    submitted = await store.submit(user.id, [submission(group) for _ in range(JOBS)])
    stores = [store] + [await JobStore.open(database_url) for _ in range(PROCESSES - 1)]
    try:
        results = await asyncio.gather(
            *(
                _claim_until_empty(stores[n % PROCESSES], user.id, group, f"machine-{n}")
                for n in range(CLAIMERS)
            )
        )
    finally:
        for extra in stores[1:]:
            await extra.close()

    taken = Counter(job_id for result in results for job_id in result)
    assert len(taken) == JOBS
    assert set(taken) == {job.id for job in submitted}
    assert max(taken.values()) == 1
    assert sum(1 for result in results if result) > 1  # the claimers did run side by side
    count, _ = await store.list(
        user.id, status=JobStatus.RUNNING, container_group_id=group, page=1, page_size=1, asc=True
    )
    assert count == JOBS


async def test_free_running_jobs_come_before_pending_ones_oldest_first(
    store: JobStore, user: UserRecord, group: str
) -> None:
    first, second, third = [(await store.submit(user.id, [submission(group)]))[0] for _ in range(3)]
    assert (await store.claim(user.id, group, "m1")).id == first.id  # type: ignore[union-attr]
    assert (await store.claim(user.id, group, "m2")).id == second.id  # type: ignore[union-attr]
    await store.release(user.id, second.id, "m2", group)
    await store.release(user.id, first.id, "m1", group)

    order = [await store.claim(user.id, group, "m3") for _ in range(3)]

    assert [job.id for job in order if job] == [first.id, second.id, third.id]


async def test_claims_stay_in_their_user_and_group(
    store: JobStore, user: UserRecord, group: str
) -> None:
    other = await store.create_user(user.username + "-other")
    await store.submit(other.id, [submission(group)])
    await store.submit(user.id, [submission(group + "-other")])

    assert await store.claim(user.id, group, "m1") is None
    assert not await store.has_claimable(user.id, group)


async def test_a_silent_holder_is_taken_over_and_fenced_off(
    store: JobStore, user: UserRecord, group: str
) -> None:
    [job] = await store.submit(user.id, [submission(group, heartbeat_interval=1)])
    held = await store.claim(user.id, group, "A")
    assert held is not None
    assert await store.claim(user.id, group, "B") is None  # A's lease is fresh

    await anyio.sleep(2.2)  # more than 2 x heartbeat_interval, by the database's clock
    taken = await store.claim(user.id, group, "B")

    assert taken is not None
    assert (taken.id, taken.machine_id, taken.num_failures) == (job.id, "B", 0)
    assert await store.heartbeat(user.id, job.id, "A", group) is JobStatus.CANCELED
    with pytest.raises(Conflict):
        await store.complete(user.id, job.id, "A", group)
    with pytest.raises(Conflict):
        await store.fail(user.id, job.id, "A", group)
    with pytest.raises(Conflict):
        await store.release(user.id, job.id, "A", group)
    after = await store.get(user.id, job.id)
    assert after.model_dump(exclude={"num_heartbeats"}) == taken.model_dump(
        exclude={"num_heartbeats"}
    )
    assert after.num_heartbeats == taken.num_heartbeats
    assert await store.heartbeat(user.id, job.id, "B", group) is JobStatus.RUNNING
    takeover = (await store.events(user.id, job.id))[-1]
    assert (takeover.kind, takeover.machine_id) == (EventKind.TAKEN_OVER, "B")
    assert takeover.detail["previous_holder"] == "A"
    assert takeover.detail["previous_heartbeat"].endswith("Z")


async def test_a_heartbeat_keeps_the_lease(store: JobStore, user: UserRecord, group: str) -> None:
    await store.submit(user.id, [submission(group, heartbeat_interval=1)])
    held = await store.claim(user.id, group, "A")
    assert held is not None

    for _ in range(3):
        await anyio.sleep(0.8)
        assert await store.heartbeat(user.id, held.id, "A", group) is JobStatus.RUNNING
        assert await store.claim(user.id, group, "B") is None


async def test_a_report_from_the_wrong_group_is_not_the_holders(
    store: JobStore, user: UserRecord, group: str
) -> None:
    [job] = await store.submit(user.id, [submission(group)])
    await store.claim(user.id, group, "A")

    assert await store.heartbeat(user.id, job.id, "A", group + "-other") is JobStatus.CANCELED
    with pytest.raises(Conflict):
        await store.complete(user.id, job.id, "A", group + "-other")
    assert await store.heartbeat(user.id, job.id, "A", group) is JobStatus.RUNNING
