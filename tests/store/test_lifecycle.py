"""A job's life through the store: reports from the holder, failures, release, cancel, purge."""

import pytest

from kelpie.jobs import EventKind, JobStatus
from kelpie.jobs.models import LEGACY_FIELDS
from kelpie.store import JobStore, UserRecord
from kelpie.store.errors import Conflict, NotFound
from tests.store.factories import submission

pytestmark = pytest.mark.anyio


async def test_a_submitted_job_is_pending_and_unheld(
    store: JobStore, user: UserRecord, group: str
) -> None:
    [job] = await store.submit(user.id, [submission(group, environment={"A": "1"})])

    assert job.status is JobStatus.PENDING
    assert (job.num_failures, job.num_heartbeats, job.machine_id) == (0, 0, None)
    assert job.started is None
    assert job.environment == {"A": "1"}
    assert job.sync is not None
    assert job.sync.before[0].prefix == "in/"
    assert await store.get(user.id, job.id) == job


async def test_legacy_storage_fields_are_kept(
    store: JobStore, user: UserRecord, group: str
) -> None:
    legacy = dict.fromkeys(LEGACY_FIELDS, "x")
    [job] = await store.submit(user.id, [submission(group, sync=None, **legacy)])

    stored = await store.get(user.id, job.id)
    assert stored.sync is None
    assert (stored.input_bucket, stored.output_prefix) == ("x", "x/")


async def test_claim_holds_the_job(store: JobStore, user: UserRecord, group: str) -> None:
    [job] = await store.submit(user.id, [submission(group)])

    taken = await store.claim(user.id, group, "m1")

    assert taken is not None
    assert taken.id == job.id
    assert taken.status is JobStatus.RUNNING
    assert taken.machine_id == "m1"
    assert taken.started is not None
    assert taken.started == taken.heartbeat
    assert taken.started >= job.created
    assert await store.claim(user.id, group, "m2") is None


async def test_heartbeat_counts_and_moves_the_heartbeat(
    store: JobStore, user: UserRecord, group: str
) -> None:
    await store.submit(user.id, [submission(group)])
    taken = await store.claim(user.id, group, "m1")
    assert taken is not None

    assert await store.heartbeat(user.id, taken.id, "m1", group) is JobStatus.RUNNING
    assert await store.heartbeat(user.id, taken.id, "m1", group) is JobStatus.RUNNING

    job = await store.get(user.id, taken.id)
    assert job.num_heartbeats == 2
    assert job.heartbeat is not None
    assert taken.heartbeat is not None
    assert job.heartbeat >= taken.heartbeat


async def test_complete(store: JobStore, user: UserRecord, group: str) -> None:
    await store.submit(user.id, [submission(group)])
    taken = await store.claim(user.id, group, "m1")
    assert taken is not None

    done = await store.complete(user.id, taken.id, "m1", group)

    assert done.status is JobStatus.COMPLETED
    assert done.completed is not None
    assert done.machine_id == "m1"
    assert await store.heartbeat(user.id, taken.id, "m1", group) is JobStatus.COMPLETED
    with pytest.raises(Conflict):
        await store.complete(user.id, taken.id, "m1", group)
    assert await store.get(user.id, taken.id) == done


async def test_a_failed_attempt_frees_the_job_at_once_but_not_for_the_banned_machine(
    store: JobStore, user: UserRecord, group: str
) -> None:
    [job] = await store.submit(user.id, [submission(group, max_failures=3)])
    await store.claim(user.id, group, "m1")

    after = await store.fail(user.id, job.id, "m1", group)

    assert (after.status, after.num_failures) == (JobStatus.RUNNING, 1)
    assert await store.claim(user.id, group, "m1") is None
    assert not await store.has_claimable(user.id, group, "m1")
    assert await store.has_claimable(user.id, group, "m2")
    retaken = await store.claim(user.id, group, "m2")
    assert retaken is not None
    assert (retaken.id, retaken.machine_id, retaken.num_failures) == (job.id, "m2", 1)
    assert retaken.started == after.started  # the first start is kept


async def test_max_failures_ends_the_job_failed(
    store: JobStore, user: UserRecord, group: str
) -> None:
    [job] = await store.submit(user.id, [submission(group, max_failures=2)])
    for machine in ("m1", "m2"):
        assert await store.claim(user.id, group, machine) is not None
        ended = await store.fail(user.id, job.id, machine, group)

    assert ended.status is JobStatus.FAILED
    assert ended.num_failures == ended.max_failures == 2
    assert ended.failed is not None
    assert await store.claim(user.id, group, "m3") is None
    kinds = [event.kind for event in await store.events(user.id, job.id)]
    assert kinds[-3:] == [EventKind.ATTEMPT_FAILED, EventKind.TAKEN, EventKind.FAILED]


async def test_release_frees_the_job_at_once_without_a_failure(
    store: JobStore, user: UserRecord, group: str
) -> None:
    [job] = await store.submit(user.id, [submission(group)])
    await store.claim(user.id, group, "m1")

    released = await store.release(user.id, job.id, "m1", group)

    assert (released.status, released.num_failures) == (JobStatus.RUNNING, 0)
    assert await store.heartbeat(user.id, job.id, "m1", group) is JobStatus.CANCELED
    again = await store.claim(user.id, group, "m1")
    assert again is not None
    assert (again.id, again.num_failures) == (job.id, 0)


async def test_cancel(store: JobStore, user: UserRecord, group: str) -> None:
    pending, running = await store.submit(user.id, [submission(group), submission(group)])
    assert (await store.claim(user.id, group, "m1")) is not None

    for job in (pending, running):
        canceled = await store.cancel(user.id, job.id)
        assert canceled.status is JobStatus.CANCELED
        assert canceled.canceled is not None
        assert await store.cancel(user.id, job.id) == canceled  # a repeated cancel: no-op

    assert await store.heartbeat(user.id, running.id, "m1", group) is JobStatus.CANCELED
    with pytest.raises(Conflict):
        await store.complete(user.id, running.id, "m1", group)
    assert await store.claim(user.id, group, "m2") is None


async def test_an_ended_job_cannot_be_canceled(
    store: JobStore, user: UserRecord, group: str
) -> None:
    [job] = await store.submit(user.id, [submission(group)])
    await store.claim(user.id, group, "m1")
    done = await store.complete(user.id, job.id, "m1", group)

    with pytest.raises(Conflict):
        await store.cancel(user.id, job.id)

    assert await store.get(user.id, job.id) == done
    assert [e.kind for e in await store.events(user.id, job.id)][-1] is EventKind.COMPLETED


async def test_purge_cancels_pending_and_running_jobs_of_the_group_only(
    store: JobStore, user: UserRecord, group: str
) -> None:
    jobs = await store.submit(user.id, [submission(group) for _ in range(4)])
    [elsewhere] = await store.submit(user.id, [submission(group + "-other")])
    held = await store.claim(user.id, group, "m1")
    assert held is not None
    finished = await store.claim(user.id, group, "m2")
    assert finished is not None
    await store.complete(user.id, finished.id, "m2", group)

    assert await store.purge(user.id, group) == 3

    statuses = {job.id: (await store.get(user.id, job.id)).status for job in jobs}
    assert sorted(statuses.values()) == ["canceled", "canceled", "canceled", "completed"]
    assert (await store.get(user.id, elsewhere.id)).status is JobStatus.PENDING
    assert await store.heartbeat(user.id, held.id, "m1", group) is JobStatus.CANCELED
    last = (await store.events(user.id, held.id))[-1]
    assert last.kind is EventKind.CANCELED
    assert last.detail == {"previous_status": "running", "purged": True}
    assert await store.purge(user.id, group) == 0


async def test_events_tell_the_story_in_order(
    store: JobStore, user: UserRecord, group: str
) -> None:
    [job] = await store.submit(user.id, [submission(group)])
    await store.claim(user.id, group, "m1")
    await store.fail(user.id, job.id, "m1", group)
    await store.claim(user.id, group, "m2")
    await store.release(user.id, job.id, "m2", group)
    await store.claim(user.id, group, "m2")
    await store.complete(user.id, job.id, "m2", group)

    events = await store.events(user.id, job.id)

    assert [(e.kind, e.machine_id) for e in events] == [
        (EventKind.SUBMITTED, None),
        (EventKind.TAKEN, "m1"),
        (EventKind.ATTEMPT_FAILED, "m1"),
        (EventKind.TAKEN, "m2"),
        (EventKind.RELEASED, "m2"),
        (EventKind.TAKEN, "m2"),
        (EventKind.COMPLETED, "m2"),
    ]
    assert [e.detail.get("after") for e in events if e.kind is EventKind.TAKEN] == [
        "submitted",
        "attempt_failed",
        "released",
    ]
    assert events[2].detail == {"num_failures": 1, "max_failures": 3}
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert [e.id for e in events] == sorted(e.id for e in events)


async def test_list_counts_filters_and_pages(store: JobStore, user: UserRecord, group: str) -> None:
    submitted = []
    for _ in range(5):  # one by one, so that they are created in order
        submitted += await store.submit(user.id, [submission(group)])
    await store.submit(user.id, [submission(group + "-other")])
    await store.claim(user.id, group, "m1")

    count, page = await store.list(
        user.id, status=None, container_group_id=group, page=1, page_size=2, asc=True
    )
    assert count == 5
    assert [job.id for job in page] == [job.id for job in submitted[:2]]

    count, page = await store.list(
        user.id, status=None, container_group_id=group, page=3, page_size=2, asc=False
    )
    assert (count, [job.id for job in page]) == (5, [submitted[0].id])

    count, page = await store.list(
        user.id, status=JobStatus.RUNNING, container_group_id=None, page=1, page_size=10, asc=True
    )
    assert (count, [job.id for job in page]) == (1, [submitted[0].id])

    count, _ = await store.list(
        user.id, status=None, container_group_id=None, page=1, page_size=10, asc=True
    )
    assert count == 6


async def test_another_users_job_does_not_exist(
    store: JobStore, user: UserRecord, group: str
) -> None:
    other = await store.create_user(user.username + "-other")
    [job] = await store.submit(user.id, [submission(group)])

    for attempt in (store.get, store.cancel, store.events):
        with pytest.raises(NotFound):
            await attempt(other.id, job.id)
    with pytest.raises(NotFound):
        await store.heartbeat(other.id, job.id, "m1", group)
    assert await store.claim(other.id, group, "m1") is None
    assert await store.list(
        other.id, status=None, container_group_id=None, page=1, page_size=10, asc=True
    ) == (0, [])
    assert await store.purge(other.id, group) == 0
    assert (await store.get(user.id, job.id)).status is JobStatus.PENDING


async def test_a_batch_is_all_or_nothing(store: JobStore, user: UserRecord, group: str) -> None:
    batch = [submission(group) for _ in range(3)]
    batch[2] = batch[2].model_copy(update={"command": None})  # the database refuses it

    with pytest.raises(Exception):  # noqa: B017, PT011 - the exact error is not the point here
        await store.submit(user.id, batch)

    assert await store.list(
        user.id, status=None, container_group_id=group, page=1, page_size=10, asc=True
    ) == (0, [])


async def test_a_batch_of_a_thousand_jobs_keeps_its_order(
    store: JobStore, user: UserRecord, group: str
) -> None:
    batch = [submission(group, arguments=[str(n)]) for n in range(1000)]

    jobs = await store.submit(user.id, batch)

    assert [job.arguments for job in jobs] == [[str(n)] for n in range(1000)]
    assert len({job.id for job in jobs}) == 1000
    count, _ = await store.list(
        user.id, status=JobStatus.PENDING, container_group_id=group, page=1, page_size=1, asc=True
    )
    assert count == 1000
