"""Trying a storage operation again, with exponential backoff and jitter."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kelpie.storage import StorageError, UnsafeKeyError
from kelpie.worker.sync.settings import SyncSettings

T = TypeVar("T")
logger = logging.getLogger(__name__)


def backoff_delay(attempt: int, base: float, cap: float, draw: Callable[[], float]) -> float:
    """Seconds to wait after failed ``attempt`` (0-based): "full jitter" over a doubling window.

    The randomness spreads out many workers that failed together, so they do not all come
    back at the same instant.
    """
    return draw() * min(cap, base * 2.0**attempt)


async def with_retries(
    operation: Callable[[], Awaitable[T]], what: str, settings: SyncSettings
) -> T:
    """``operation`` until it succeeds or ``settings.attempts`` are spent (then its error)."""
    failures = 0
    while True:
        try:
            return await operation()
        except UnsafeKeyError:
            raise
        except StorageError as exc:
            failures += 1
            if failures >= settings.attempts:
                raise
            delay = backoff_delay(
                failures - 1, settings.backoff_base_s, settings.backoff_max_s, random.random
            )
            logger.warning(
                "%s failed (attempt %d of %d), retrying in %.2f s: %s",
                what,
                failures,
                settings.attempts,
                delay,
                exc,
            )
            await asyncio.sleep(delay)
