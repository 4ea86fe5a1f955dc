"""One clock: every timestamp the store writes is the database's time."""

from datetime import datetime

import pytest
from sqlalchemy import select

from kelpie.store import JobStore, UserRecord
from kelpie.store.clock import db_now
from kelpie.store.records import as_utc
from tests.store.factories import submission

pytestmark = pytest.mark.anyio


async def _database_time(store: JobStore) -> datetime:
    async with store._engines.reader.connect() as connection:
        value: datetime | None = await connection.scalar(select(db_now()))
    assert value is not None
    return as_utc(value)


async def test_every_timestamp_is_read_from_the_database_clock(
    store: JobStore, user: UserRecord, group: str
) -> None:
    before = await _database_time(store)
    [job] = await store.submit(user.id, [submission(group)])
    await store.claim(user.id, group, "m1")
    await store.heartbeat(user.id, job.id, "m1", group)
    done = await store.complete(user.id, job.id, "m1", group)
    after = await _database_time(store)

    assert done.started is not None
    assert done.heartbeat is not None
    assert done.completed is not None
    assert before <= done.created <= done.started <= done.heartbeat <= done.completed <= after
    events = await store.events(user.id, job.id)
    assert all(before <= event.at <= after for event in events)


async def test_timestamps_keep_milliseconds(store: JobStore, user: UserRecord, group: str) -> None:
    stamps = {(await store.submit(user.id, [submission(group)]))[0].created for _ in range(5)}

    assert any(stamp.microsecond for stamp in stamps)
    assert all(stamp.tzinfo is not None for stamp in stamps)
