"""Carries "work appeared" between API processes over one PostgreSQL, with LISTEN/NOTIFY.

Each process keeps one connection that listens and one that sends. Announcements are
coalesced: under load, many submits leave in one ``pg_notify`` statement, one payload per key
with the number of jobs announced, so that other processes wake that many waiters; a process
ignores its own payloads (it woke its waiters already). A lost connection is
reopened; announcements missed meanwhile are covered by the long polls' periodic database
check, so a notification is a shortcut, never the only way work is found.
"""

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

logger = logging.getLogger("kelpie.api.notify")

CHANNEL = "kelpie_work"
RECONNECT_DELAY = 1.0


def asyncpg_dsn(database_url: str) -> str:
    """The SQLAlchemy URL (``postgresql+asyncpg://...``) as asyncpg takes it."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresNotifier:
    def __init__(self, database_url: str, on_notify: Callable[[str, int], None]) -> None:
        self._dsn = asyncpg_dsn(database_url)
        self._on_notify = on_notify
        self._origin = secrets.token_hex(8)
        self._pending: Counter[str] = Counter()
        self._has_pending = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="kelpie-listen"),
            asyncio.create_task(self._send(), name="kelpie-notify"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def announce(self, digest: str, count: int) -> None:
        self._pending[digest] += count
        self._has_pending.set()

    def _received(self, _connection: object, _pid: int, _channel: str, payload: object) -> None:
        origin, digest, count = str(payload).split(" ")
        if origin != self._origin:
            self._on_notify(digest, int(count))

    async def _listen(self) -> None:
        while True:
            try:
                await self._listen_until_lost()
            except (OSError, asyncpg.PostgresError) as exc:
                logger.warning("cannot LISTEN for new work (retrying): %s", exc)
            await asyncio.sleep(RECONNECT_DELAY)

    async def _listen_until_lost(self) -> None:
        connection = await asyncpg.connect(self._dsn)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, self._received)
            await lost.wait()
            logger.warning("the LISTEN connection was lost; reopening it")
        finally:
            await connection.close()

    async def _send(self) -> None:
        connection: Any = None
        try:
            while True:
                await self._has_pending.wait()
                self._has_pending.clear()
                payloads = [f"{self._origin} {key} {n}" for key, n in sorted(self._pending.items())]
                self._pending = Counter()
                try:
                    if connection is None or connection.is_closed():
                        connection = await asyncpg.connect(self._dsn)
                    await connection.execute(
                        "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload",
                        CHANNEL,
                        payloads,
                    )
                except (OSError, asyncpg.PostgresError) as exc:
                    logger.warning("could not announce new work to other processes: %s", exc)
                    await asyncio.sleep(RECONNECT_DELAY)
        finally:
            if connection is not None:
                await connection.close()
