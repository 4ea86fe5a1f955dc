"""Engines for both backends, and the one place where driver errors become store errors.

SQLite: the driver's own transaction handling is turned off and SQLAlchemy emits BEGIN
itself (SQLAlchemy's documented recipe for pysqlite and aiosqlite), ``BEGIN IMMEDIATE`` for
the write engine, so that a writing transaction holds the write lock from its first statement
and its reads cannot go stale before it writes. WAL lets readers run beside the writer.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kelpie.store.errors import Conflict, StoreError, Unavailable

WRITE_OPTION = "kelpie_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000

POSTGRES_POOL = {
    # two cores: a few busy connections saturate them; more would only queue inside PostgreSQL
    "pool_size": 8,
    "max_overflow": 8,
    "pool_timeout": 10,
    "pool_recycle": 1800,
}


def create_engine(database_url: str) -> AsyncEngine:
    """An engine for reads; ``writer(engine)`` gives the one for transactions that write."""
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url)
        _configure_sqlite(engine)
        return engine
    return create_async_engine(database_url, **POSTGRES_POOL)


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool, marked so that SQLite begins its transactions IMMEDIATE."""
    return engine.execution_options(**{WRITE_OPTION: True})


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode = WAL",
            f"busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
            "synchronous = NORMAL",
            "foreign_keys = ON",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def translated_errors() -> Iterator[None]:
    """Callers see only store errors: the database being away is ``Unavailable``."""
    try:
        yield
    except exc.IntegrityError as error:
        raise Conflict(str(error.orig)) from error
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as error:
        raise Unavailable(f"the database did not answer: {error}") from error
    except exc.DBAPIError as error:
        if error.connection_invalidated:
            raise Unavailable(f"the database connection was lost: {error}") from error
        raise StoreError(str(error)) from error
    except (OSError, TimeoutError) as error:
        raise Unavailable(f"the database did not answer: {error}") from error
