"""How a waiting long poll learns that work appeared: the one object the routes talk to.

Three paths lead to a wake-up, fastest first:

- a submit, release or failed attempt in this process wakes its waiters at once;
- on PostgreSQL, the same announcement reaches the other API processes by NOTIFY;
- every ``poll_interval`` one ``has_claimable`` query per watched (user, group) catches work
  that nobody announces: a holder that stopped heartbeating, a submit through another process
  on SQLite, a notification lost with its connection.

The periodic check is shared by all the long polls on a key, so a thousand idle workers of
one group cost one small query per interval, not a thousand; it wakes a few of them
(``WAKE_AFTER_CHECK``), and each that wins a job wakes another (see ``kelpie.api.waker``).
"""

import asyncio
import contextlib
import logging

from kelpie.api.notify import PostgresNotifier
from kelpie.api.waker import Waker, WorkKey
from kelpie.store.errors import StoreError
from kelpie.store.jobs import JobStore

logger = logging.getLogger("kelpie.api.signals")

WAKE_AFTER_CHECK = 4
"""Waiters of a key woken when the periodic check finds work nobody announced."""


class WorkSignals:
    def __init__(self, database_url: str, poll_interval: float) -> None:
        self.waker = Waker()
        self._poll_interval = poll_interval
        self._notifier = (
            PostgresNotifier(database_url, self.waker.wake)
            if database_url.startswith("postgresql")
            else None
        )
        self._poller: asyncio.Task[None] | None = None

    async def start(self, store: JobStore) -> None:
        if self._notifier is not None:
            await self._notifier.start()
        self._poller = asyncio.create_task(self._poll(store), name="kelpie-work-poll")

    async def stop(self) -> None:
        self.waker.close()
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        if self._notifier is not None:
            await self._notifier.stop()

    def announce(self, key: WorkKey, count: int = 1) -> None:
        """``count`` jobs for ``key`` may be claimable now: wake as many waiters here, and in
        each other process."""
        self.waker.wake(key.digest, count)
        if self._notifier is not None:
            self._notifier.announce(key.digest, count)

    async def _poll(self, store: JobStore) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            for key in self.waker.watched():
                try:
                    if await store.has_claimable(key.user_id, key.container_group_id):
                        self.waker.wake(key.digest, WAKE_AFTER_CHECK)
                except StoreError as exc:
                    logger.warning("checking for unannounced work failed: %s", exc)
                except Exception:  # the check must outlive a bug, or long polls go deaf
                    logger.exception("checking for unannounced work failed unexpectedly")
