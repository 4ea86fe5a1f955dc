"""Wakes the long polls waiting for work of one user and container group, inside one process.

A long poll registers before it tries to claim, so a job queued between its failed claim and
its wait still wakes it. Waiting costs one ``asyncio.Event``; nothing runs while nobody wakes.

A wake-up names how many jobs appeared, and only that many waiters wake, the longest waiting
first: with a thousand idle workers on one group, a submit of one job costs one claim, not a
thousand (measured in docs/benchmarks.md). A waiter that loses its job to another claimer
goes back to waiting; one that wins passes the wake-up on (``WAKE_AFTER_WIN``), so work that
appeared without a count (the periodic check) is drained by a chain of waiters, not one.
"""

import asyncio
import hashlib
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

WAKE_AFTER_WIN = 1
"""Waiters a woken waiter wakes when it got a job: there may be more."""


@dataclass(frozen=True)
class WorkKey:
    """Whose work, in which queue: what a long poll waits for."""

    user_id: str
    container_group_id: str

    @property
    def digest(self) -> str:
        """A short fixed-length name for the key, safe in a PostgreSQL NOTIFY payload."""
        text = f"{self.user_id}\0{self.container_group_id}".encode()
        return hashlib.sha256(text).hexdigest()[:32]


class Waker:
    def __init__(self) -> None:
        # per digest: the key, and its waiters' events oldest first (a dict keeps the order)
        self._waiting: dict[str, tuple[WorkKey, dict[asyncio.Event, None]]] = {}
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @contextmanager
    def watch(self, key: WorkKey) -> Iterator[asyncio.Event]:
        """An event set when work for ``key`` may have appeared, or when the server stops."""
        event = asyncio.Event()
        if self._closed:
            event.set()
        _, events = self._waiting.setdefault(key.digest, (key, {}))
        events[event] = None
        try:
            yield event
        finally:
            events.pop(event, None)
            if not events:
                self._waiting.pop(key.digest, None)

    def wake(self, digest: str, count: int | None = None) -> None:
        """Wakes ``count`` waiters (all of them if ``None``), the longest waiting first.

        A woken waiter leaves the queue at once, so the next wake-up reaches the next one."""
        entry = self._waiting.get(digest)
        if entry is None:
            return
        events = entry[1]
        for event in list(itertools.islice(events, count)):
            del events[event]
            event.set()

    def watched(self) -> list[WorkKey]:
        return [key for key, _ in self._waiting.values()]

    def close(self) -> None:
        """Wakes every waiter for good: the server is stopping and they answer ``[]``."""
        self._closed = True
        for digest in list(self._waiting):
            self.wake(digest)
