"""The migrations build exactly the declared schema, and run safely from several processes."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from kelpie.store import JobStore, upgrade
from kelpie.store.engine import create_engines
from kelpie.store.errors import Unavailable
from kelpie.store.migrate import alembic_config
from kelpie.store.schema import metadata
from tests.conftest import BACKENDS
from tests.support.processes import free_port
from tests.support.servers import database

pytestmark = pytest.mark.anyio


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with database(request.param, tmp_path) as url:
        yield url


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def _downgrade_all(connection: Connection) -> None:
    command.downgrade(alembic_config(connection), "base")


async def _run(url: str, step: object) -> object:
    engines = create_engines(url)
    try:
        async with engines.writer.begin() as connection:
            return await connection.run_sync(step)  # type: ignore[arg-type]
    finally:
        await engines.dispose()


async def test_the_migrations_build_the_declared_schema(empty_database: str) -> None:
    await upgrade(empty_database)

    assert await _run(empty_database, _differences) == []


async def test_the_migrations_go_down_and_up_again(empty_database: str) -> None:
    await upgrade(empty_database)
    await _run(empty_database, _downgrade_all)
    await upgrade(empty_database)

    assert await _run(empty_database, _differences) == []


async def test_several_processes_may_migrate_at_once(empty_database: str) -> None:
    stores = await asyncio.gather(*(JobStore.open(empty_database) for _ in range(4)))
    for store in stores:
        await store.ping()
        await store.close()


async def test_an_unreachable_database_is_unavailable(tmp_path: Path) -> None:
    closed_port = free_port()
    for url in (
        f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port}/kelpie",
        f"sqlite+aiosqlite:///{tmp_path / 'missing' / 'kelpie.db'}",
    ):
        with pytest.raises(Unavailable):
            await JobStore.open(url)
    await anyio.sleep(0.1)  # aiosqlite stops a failed connection's thread in the background
