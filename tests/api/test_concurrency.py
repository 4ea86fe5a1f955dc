"""Under concurrency every job is held by one machine at a time, on both backends."""

import asyncio
from collections import Counter

import httpx

from tests.api.helpers import job_body, new_group
from tests.support.servers import ApiServer, User

CLAIMERS = 50
JOBS = 500


async def _claim_until_empty(api: httpx.AsyncClient, group: str, machine: str) -> list[str]:
    taken: list[str] = []
    params = {"machine_id": machine, "container_group_id": group}
    while True:
        response = await api.get("/work", params=params)
        assert response.status_code == 200, response.text
        jobs = response.json()
        if not jobs:
            return taken
        assert jobs[0]["machine_id"] == machine
        taken.append(jobs[0]["id"])


async def _race(server: ApiServer, user: User, group: str) -> dict[str, list[str]]:
    limits = httpx.Limits(max_connections=CLAIMERS)
    async with httpx.AsyncClient(
        base_url=server.url, headers=user.headers, limits=limits, timeout=60
    ) as api:
        machines = [f"machine-{n}" for n in range(CLAIMERS)]
        results = await asyncio.gather(*(_claim_until_empty(api, group, m) for m in machines))
    return dict(zip(machines, results, strict=True))


def test_50_claimers_take_each_of_500_jobs_exactly_once(
    server: ApiServer, client: httpx.Client, user: User
) -> None:
    group = new_group()
    submitted = client.post("/jobs/batch", json=[job_body(group)] * JOBS)
    assert submitted.status_code == 202, submitted.text
    ids = {job["id"] for job in submitted.json()}

    by_machine = asyncio.run(_race(server, user, group))

    taken = Counter(job_id for jobs in by_machine.values() for job_id in jobs)
    assert set(taken) == ids
    assert max(taken.values()) == 1, "a job was handed out twice"
    assert sum(1 for jobs in by_machine.values() if jobs) > 1, "the claimers did not overlap"

    holder = {job_id: machine for machine, jobs in by_machine.items() for job_id in jobs}
    listed = client.get("/jobs", params={"container_group_id": group, "page_size": 1000}).json()
    assert listed["_count"] == JOBS
    for job in listed["jobs"]:
        assert (job["status"], job["machine_id"]) == ("running", holder[job["id"]])
