"""The database's clock, the only one the store reads.

API replicas may disagree about the time; the database they share is one clock. So every
timestamp is written as an SQL expression evaluated by the database, and every staleness
decision compares with it there, never with a value computed in Python.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement


def _sqlite_time(*modifiers: str) -> str:
    """SQLite's current time, moved by ``modifiers``, with milliseconds, as text that sorts in
    time order (how SQLAlchemy stores datetimes in SQLite, so it reads them back)."""
    arguments = ", ".join(("'%Y-%m-%d %H:%M:%f'", "'now'", *modifiers))
    return f"strftime({arguments})"


class db_now(FunctionElement[datetime]):
    """The database's current time, with at least millisecond precision."""

    type = DateTime(timezone=True)
    inherit_cache = True


class seconds_ago(FunctionElement[datetime]):
    """The database's current time minus ``seconds`` (an SQL integer expression)."""

    type = DateTime(timezone=True)
    inherit_cache = True

    def __init__(self, seconds: ColumnElement[int]) -> None:
        super().__init__(seconds)


@compiles(db_now, "postgresql")
def _postgresql_now(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "clock_timestamp()"


@compiles(db_now, "sqlite")
def _sqlite_now(element: db_now, compiler: SQLCompiler, **kw: Any) -> str:
    return _sqlite_time()


@compiles(seconds_ago, "postgresql")
def _postgresql_seconds_ago(element: seconds_ago, compiler: SQLCompiler, **kw: Any) -> str:
    seconds = compiler.process(element.clauses, **kw)
    return f"(clock_timestamp() - make_interval(secs => {seconds}))"


@compiles(seconds_ago, "sqlite")
def _sqlite_seconds_ago(element: seconds_ago, compiler: SQLCompiler, **kw: Any) -> str:
    seconds = compiler.process(element.clauses, **kw)
    return _sqlite_time(f"'-' || ({seconds}) || ' seconds'")
