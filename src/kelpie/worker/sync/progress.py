"""What is moving right now (for the worker's state file) and how fast it went (for the log).

Progress callbacks arrive from s3transfer's threads, so each transfer guards its counter
with a lock; the tracker itself is only touched from the event loop.
"""

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from kelpie.jobs.timestamps import format_timestamp

logger = logging.getLogger(__name__)

Direction = Literal["upload", "download"]
MIB = 1024 * 1024
LARGE_FILE_BYTES = 64 * MIB
"""Files at least this big get a log line of their own when they finish."""
PROGRESS_INTERVAL_S = 10.0
"""How often a long transfer logs how far it got."""


def describe_rate(size: int, seconds: float) -> str:
    """``"256.0 MiB in 2.1 s (127.8 MB/s)"``: sizes in binary units, rates in decimal MB/s."""
    rate = size / 1e6 / seconds if seconds > 0 else float("inf")
    return f"{size / MIB:.1f} MiB in {seconds:.1f} s ({rate:.1f} MB/s)"


@dataclass
class Transfer:
    direction: Direction
    bucket: str
    key: str
    path: str
    size: int | None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    _last_report: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"{self.bucket}/{self.key}"

    def add(self, moved: int) -> None:
        """A progress callback: ``moved`` more bytes went through. Safe from any thread."""
        with self._lock:
            self.done += moved
            now = time.monotonic()
            if now - self._last_report < PROGRESS_INTERVAL_S:
                return
            self._last_report = now
            done = self.done
        total = f" of {self.size / MIB:.1f} MiB" if self.size else ""
        logger.info(
            "%sing %s: %s so far%s",
            self.direction,
            self.url,
            describe_rate(done, now - self.started),
            total,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "bucket": self.bucket,
            "key": self.key,
            "path": self.path,
            "size": self.size,
            "bytes_done": self.done,
            "started": format_timestamp(self.started_at),
        }


class TransferTracker:
    """The transfers in flight; ``snapshot()`` is what the worker writes to its state file."""

    def __init__(self) -> None:
        self._active: dict[int, Transfer] = {}

    @contextmanager
    def track(
        self, direction: Direction, bucket: str, key: str, path: str, size: int | None
    ) -> Iterator[Transfer]:
        transfer = Transfer(direction, bucket, key, path, size)
        self._active[id(transfer)] = transfer
        try:
            yield transfer
        finally:
            del self._active[id(transfer)]
        moved = transfer.size if transfer.size is not None else transfer.done
        if moved >= LARGE_FILE_BYTES:
            logger.info(
                "%sed %s: %s",
                direction,
                transfer.url,
                describe_rate(moved, time.monotonic() - transfer.started),
            )

    def snapshot(self) -> list[dict[str, Any]]:
        return [transfer.as_dict() for transfer in self._active.values()]
