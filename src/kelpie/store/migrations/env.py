"""Alembic's entry point: migrate the connection Kelpie hands over, or the database named by
``KELPIE_DATABASE_URL`` when a developer runs the ``alembic`` command."""

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from kelpie.store.engine import create_engines
from kelpie.store.schema import metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url(url: str) -> None:
    engines = create_engines(url)
    try:
        async with engines.writer.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engines.dispose()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:
    asyncio.run(run_from_url(os.environ["KELPIE_DATABASE_URL"]))
