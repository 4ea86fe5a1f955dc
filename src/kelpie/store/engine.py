"""Engines for both backends, and the one place where driver errors become store errors.

SQLite: the driver's own transaction handling is turned off and SQLAlchemy emits BEGIN
itself (SQLAlchemy's documented recipe for pysqlite and aiosqlite), ``BEGIN IMMEDIATE`` on
the write engine, so that a writing transaction holds the write lock from its first statement
and its reads cannot go stale before it writes. SQLite lets one writer in at a time anyway,
so the write engine has one connection: this process's writers queue for it without
spinning in SQLite's busy handler, which is left to arbitrate between processes. WAL lets
readers run beside the writer.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from sqlalchemy import event, exc, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from kelpie.store.errors import Conflict, Invalid, StoreError, Unavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000

POSTGRES_POOL = {
    # Two cores: a handful of busy connections saturates them, more would only queue inside
    # PostgreSQL; requests beyond that wait for a connection here (up to pool_timeout, then
    # Unavailable). Several API processes multiply these, under max_connections (100).
    "pool_size": 5,
    "max_overflow": 5,
    "pool_timeout": 10,
    "pool_recycle": 1800,
}


class Engines(NamedTuple):
    """``reader`` for transactions that only read, ``writer`` for those that write."""

    reader: AsyncEngine
    writer: AsyncEngine

    async def dispose(self) -> None:
        await self.reader.dispose()
        if self.writer is not self.reader:
            await self.writer.dispose()


def create_engines(database_url: str) -> Engines:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):  # one connection holds the whole database
            shared = _sqlite_engine(database_url, "BEGIN IMMEDIATE")
            return Engines(shared, shared)
        reader = _sqlite_engine(database_url, "BEGIN")
        writer = _sqlite_engine(database_url, "BEGIN IMMEDIATE", pool_size=1, max_overflow=0)
        return Engines(reader, writer)
    engine = create_async_engine(database_url, **POSTGRES_POOL)
    return Engines(engine, engine)


def _sqlite_engine(database_url: str, begin: str, **pool: Any) -> AsyncEngine:
    engine = create_async_engine(database_url, **pool)

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
        connection.exec_driver_sql(begin)

    return engine


_UNAVAILABLE_CLASSES = frozenset({"08", "40", "53", "57"})
"""PostgreSQL error classes that say "not now": connection, transaction rollback (deadlock,
serialization), insufficient resources, operator intervention (shutdown, starting up)."""

_INVALID_CLASSES = frozenset({"22", "54"})
"""PostgreSQL error classes for a value it cannot hold: data exception, program limit."""


@contextmanager
def translated_errors() -> Iterator[None]:
    """Callers see only store errors: the database being away is ``Unavailable``."""
    try:
        yield
    except exc.IntegrityError as error:
        raise Conflict(str(error.orig)) from error
    except exc.DataError as error:
        raise Invalid(str(error.orig)) from error
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as error:
        raise Unavailable(f"the database did not answer: {error}") from error
    except exc.DBAPIError as error:
        error_class = str(getattr(error.orig, "sqlstate", None) or "")[:2]
        if error.connection_invalidated or error_class in _UNAVAILABLE_CLASSES:
            raise Unavailable(f"the database did not answer: {error}") from error
        if error_class in _INVALID_CLASSES:
            raise Invalid(str(error.orig)) from error
        raise StoreError(str(error)) from error
    except (OSError, TimeoutError) as error:
        raise Unavailable(f"the database did not answer: {error}") from error
