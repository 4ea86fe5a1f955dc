"""Jobs with their events, fetched together: what ``kelpie report`` and the demo compute from."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from kelpie.client.api import KelpieClient
from kelpie.jobs import Job, JobEvent

CONCURRENT_REQUESTS = 8


@dataclass(frozen=True)
class History:
    job: Job
    events: list[JobEvent]


async def fetch_histories(
    client: KelpieClient,
    job_ids: Sequence[str] = (),
    container_group_id: str | None = None,
) -> list[History]:
    """The named jobs, or else every job (of the group, if given), oldest first."""
    if job_ids:
        jobs = list(await asyncio.gather(*(client.job(job_id) for job_id in job_ids)))
    else:
        jobs = await client.jobs(container_group_id=container_group_id)
    limit = asyncio.Semaphore(CONCURRENT_REQUESTS)

    async def history(job: Job) -> History:
        async with limit:
            return History(job, await client.events(job.id))

    return list(await asyncio.gather(*(history(job) for job in jobs)))
