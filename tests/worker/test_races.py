import asyncio

import pytest

from kelpie.worker.races import Interrupted, run_unless, sleep_unless


async def _value_after(seconds: float, value: str, finished: list[str]) -> str:
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        finished.append("cancelled")
        raise
    return value


def test_the_work_wins_when_no_stop_comes() -> None:
    async def scenario() -> str:
        return await run_unless(_value_after(0.01, "done", []), asyncio.Event())

    assert asyncio.run(scenario()) == "done"


def test_a_stop_cancels_the_work_and_waits_for_it() -> None:
    finished: list[str] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(0.01, stop.set)
        await run_unless(_value_after(10, "never", finished), asyncio.Event(), stop)

    with pytest.raises(Interrupted):
        asyncio.run(scenario())
    assert finished == ["cancelled"]


def test_errors_of_the_work_come_through() -> None:
    async def failing() -> None:
        raise ValueError("boom")

    async def scenario() -> None:
        await run_unless(failing(), asyncio.Event())

    with pytest.raises(ValueError, match="boom"):
        asyncio.run(scenario())


def test_sleep_unless_says_whether_it_was_stopped() -> None:
    async def scenario() -> tuple[bool, bool]:
        stop = asyncio.Event()
        quiet = await sleep_unless(stop, 0.01)
        stop.set()
        return quiet, await sleep_unless(stop, 10)

    assert asyncio.run(scenario()) == (False, True)
