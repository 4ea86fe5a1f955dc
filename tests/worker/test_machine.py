"""The SaladCloud metadata client against a fake that speaks the service's HTTP API."""

import asyncio

from kelpie.worker.machine import NoPlatform, SaladMetadata, machine_control
from tests.worker.fakes import fake_metadata


def test_costs_and_requests_reach_the_metadata_service() -> None:
    async def talk(url: str) -> tuple[bool, bool]:
        control = await machine_control(True, url)
        assert isinstance(control, SaladMetadata)
        await control.set_deletion_cost(0)
        await control.set_deletion_cost(0)
        await control.set_deletion_cost(7)
        answers = (await control.reallocate("too many failures"), await control.recreate())
        await control.aclose()
        return answers

    with fake_metadata() as fake:
        assert asyncio.run(talk(fake.url)) == (True, True)
    assert fake.deletion_costs() == [0, 7]
    assert fake.posts("/v1/reallocate")[0].body == {"reason": "too many failures"}
    assert len(fake.posts("/v1/recreate")) == 1


def test_off_saladcloud_or_without_an_answer_there_is_nobody_to_ask() -> None:
    async def control_for(on_saladcloud: bool, url: str) -> object:
        return await machine_control(on_saladcloud, url)

    assert isinstance(asyncio.run(control_for(False, "http://127.0.0.1:9")), NoPlatform)
    assert isinstance(asyncio.run(control_for(True, "http://127.0.0.1:9")), NoPlatform)
    assert asyncio.run(NoPlatform().reallocate("x")) is False
