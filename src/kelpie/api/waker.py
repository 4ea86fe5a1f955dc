"""Wakes the long polls waiting for work of one user and container group, inside one process.

A long poll registers before it tries to claim, so a job queued between its failed claim and
its wait still wakes it. Waiting costs one ``asyncio.Event``; nothing runs while nobody wakes.
"""

import asyncio
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


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
        self._waiting: dict[str, tuple[WorkKey, set[asyncio.Event]]] = {}
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
        _, events = self._waiting.setdefault(key.digest, (key, set()))
        events.add(event)
        try:
            yield event
        finally:
            events.discard(event)
            if not events:
                self._waiting.pop(key.digest, None)

    def wake(self, digest: str) -> None:
        entry = self._waiting.get(digest)
        if entry is not None:
            for event in entry[1]:
                event.set()

    def watched(self) -> list[WorkKey]:
        return [key for key, _ in self._waiting.values()]

    def close(self) -> None:
        """Wakes every waiter for good: the server is stopping and they answer ``[]``."""
        self._closed = True
        for digest in list(self._waiting):
            self.wake(digest)
