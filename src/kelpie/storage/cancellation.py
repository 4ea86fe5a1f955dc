"""Waiting on work that runs in threads without letting cancellation orphan it."""

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class Stopped(Exception):
    """Blocking work saw its stop event set and gave up; it published nothing."""


async def until_stopped(future: "asyncio.Future[T]", stop: Callable[[], None]) -> T:
    """Awaits ``future``; if the caller is cancelled, calls ``stop`` and waits for the work to end.

    A plain ``await`` would return at once on cancellation while a thread keeps writing; a
    worker that lost its lease must know that nothing of its own is still going out.
    """
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        stop()
        await asyncio.wait([future])
        if not future.cancelled():
            future.exception()
        raise
