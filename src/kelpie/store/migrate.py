"""Bringing a database's schema to the version this code expects, with Alembic.

Several API processes may start at once over one PostgreSQL: each takes a transaction-scoped
advisory lock first, so one migrates and the others then find nothing to do. On SQLite the
write transaction (``BEGIN IMMEDIATE``) serialises them the same way.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from kelpie.store import queries
from kelpie.store.engine import Engines, create_engines, translated_errors

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 0x6B656C70  # "kelp": any constant that other users of the database do not take


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(queries.MIGRATION_LOCK, {"key": MIGRATION_LOCK_KEY})
    command.upgrade(alembic_config(connection), "head")


async def upgrade_engines(engines: Engines) -> None:
    with translated_errors():
        async with engines.writer.begin() as connection:
            await connection.run_sync(_upgrade)


async def upgrade(database_url: str) -> None:
    """Creates or migrates the schema of ``database_url`` (``kelpie db upgrade``)."""
    engines = create_engines(database_url)
    try:
        await upgrade_engines(engines)
    finally:
        await engines.dispose()
