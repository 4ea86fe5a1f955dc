"""Waiting for something unless something else happens first (a lost lease, a shutdown)."""

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Interrupted(Exception):
    """A stop event was set before the awaited work finished; the work was cancelled."""


async def run_unless(work: Coroutine[Any, Any, T], *stops: asyncio.Event) -> T:
    """``work``'s result, or ``Interrupted`` once any of ``stops`` is set (``work`` is then
    cancelled, and has finished cancelling when this returns)."""
    task = asyncio.ensure_future(work)
    waiters = [asyncio.ensure_future(stop.wait()) for stop in stops]
    try:
        await asyncio.wait({task, *waiters}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if task.cancelled():
        raise Interrupted
    return task.result()


async def first_set(*events: asyncio.Event) -> None:
    """Returns once any of ``events`` is set."""
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def sleep_unless(stop: asyncio.Event, seconds: float) -> bool:
    """Sleeps; True if ``stop`` was set before the time was up."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()
