"""The waker wakes as many long polls as jobs were announced, the longest waiting first."""

import asyncio
from contextlib import ExitStack

from kelpie.api.waker import Waker, WorkKey

KEY = WorkKey("user", "group")


def test_a_wake_up_wakes_as_many_waiters_as_it_counts_oldest_first() -> None:
    async def scenario() -> list[bool]:
        waker = Waker()
        with ExitStack() as stack:
            events = [stack.enter_context(waker.watch(KEY)) for _ in range(5)]
            waker.wake(KEY.digest, 2)
            waker.wake(KEY.digest, 1)  # the next one, not a second wake-up of the first
            return [event.is_set() for event in events]

    assert asyncio.run(scenario()) == [True, True, True, False, False]


def test_closing_wakes_every_waiter_and_every_later_one() -> None:
    async def scenario() -> tuple[list[bool], bool]:
        waker = Waker()
        with ExitStack() as stack:
            events = [stack.enter_context(waker.watch(KEY)) for _ in range(3)]
            waker.close()
            with waker.watch(KEY) as late:
                return [event.is_set() for event in events], late.is_set()

    assert asyncio.run(scenario()) == ([True, True, True], True)


def test_other_keys_are_not_woken() -> None:
    async def scenario() -> bool:
        waker = Waker()
        with waker.watch(WorkKey("user", "other")) as other:
            waker.wake(KEY.digest)
            return other.is_set()

    assert asyncio.run(scenario()) is False
