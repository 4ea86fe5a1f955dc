"""Database URLs for the tests: a fresh SQLite file, or a fresh PostgreSQL database.

PostgreSQL is reached through ``KELPIE_TEST_POSTGRES_URL``. Each test server gets a database
of its own, so test runs on one machine never see each other's jobs. Without that variable
the PostgreSQL tests are skipped with a message, unless ``KELPIE_REQUIRE_POSTGRES`` is set
(as CI does), which turns the skip into a failure.
"""

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
import pytest

POSTGRES_ENV = "KELPIE_TEST_POSTGRES_URL"


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    message = (
        f"PostgreSQL tests need {POSTGRES_ENV}, e.g. postgresql+asyncpg://postgres@127.0.0.1/test"
    )
    if os.environ.get("KELPIE_REQUIRE_POSTGRES"):
        pytest.fail(message)
    pytest.skip(message)


async def _execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(_plain(url))
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_postgres_database() -> str:
    """Creates an empty database beside the configured one and returns its SQLAlchemy URL."""
    base = postgres_base_url()
    name = f"kelpie_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_execute(base, f'CREATE DATABASE "{name}"'))
    return base.rsplit("/", 1)[0] + "/" + name


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    asyncio.run(_execute(postgres_base_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'kelpie.db'}"
