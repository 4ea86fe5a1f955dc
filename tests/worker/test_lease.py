"""The lease's heartbeats against a scripted API: outages are ridden out, ``canceled`` ends it."""

import asyncio

import httpx

from kelpie.jobs import Job
from kelpie.worker.lease import Lease
from kelpie.worker.machine import NoPlatform
from tests.worker.scripted import JOB, api, scripted


class CostRecorder(NoPlatform):
    def __init__(self) -> None:
        self.costs: list[int] = []

    async def set_deletion_cost(self, cost: int) -> None:
        self.costs.append(cost)


def test_heartbeats_ride_out_an_outage_and_stop_at_canceled() -> None:
    handler, seen = scripted(
        httpx.ConnectError("down"),
        httpx.Response(503),
        httpx.Response(200, json={"status": "running"}),
        httpx.Response(200, json={"status": "running"}),
        httpx.Response(200, json={"status": "canceled"}),
    )
    machine = CostRecorder()
    job = Job.model_validate({**JOB, "heartbeat_interval": 1})

    async def scenario() -> Lease:
        async with Lease(api(handler), job, machine) as lease:
            await asyncio.wait_for(lease.lost.wait(), 10)
        return lease

    lease = asyncio.run(scenario())
    assert lease.heartbeats == 2
    assert machine.costs == [1, 2]
    assert [request.url.path for request in seen] == ["/jobs/j1/heartbeat"] * 5
