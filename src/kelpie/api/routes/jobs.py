"""What users do with their jobs: submit, list, read, cancel, purge, read the history."""

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, Body, Query
from fastapi.responses import JSONResponse

from kelpie.api.auth import CurrentUser
from kelpie.api.responses import JOB_DOC, JobId, job_response
from kelpie.api.state import Signals, Store
from kelpie.api.waker import WorkKey
from kelpie.jobs import Job, JobEventList, JobList, JobStatus, JobSubmission

router = APIRouter(tags=["jobs"])

MAX_BATCH = 1000

Batch = Annotated[
    list[JobSubmission],
    Body(min_length=1, max_length=MAX_BATCH, description="1 to 1000 jobs, queued all or none"),
]


def _announce(signals: Signals, user_id: str, jobs: list[Job]) -> None:
    for group, count in Counter(job.container_group_id for job in jobs).items():
        signals.announce(WorkKey(user_id, group), count)


@router.post("/jobs", status_code=202, response_model=Job)
async def submit_job(
    submission: JobSubmission, user: CurrentUser, store: Store, signals: Signals
) -> JSONResponse:
    """Queue one job."""
    jobs = await store.submit(user.id, [submission])
    _announce(signals, user.id, jobs)
    return job_response(jobs[0], 202)


@router.post("/jobs/batch", status_code=202, response_model=list[Job])
async def submit_batch(
    submissions: Batch, user: CurrentUser, store: Store, signals: Signals
) -> JSONResponse:
    """Queue 1 to 1000 jobs in one request: all of them, or none if any is invalid."""
    jobs = await store.submit(user.id, submissions)
    _announce(signals, user.id, jobs)
    return JSONResponse([job.to_wire() for job in jobs], status_code=202)


@router.get("/jobs", response_model=JobList)
async def list_jobs(
    user: CurrentUser,
    store: Store,
    status: JobStatus | None = None,
    container_group_id: str | None = None,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
    page: Annotated[int, Query(ge=1)] = 1,
    asc: bool = False,
) -> JSONResponse:
    """The caller's jobs, newest first unless ``asc``; ``_count`` counts every match."""
    count, jobs = await store.list(
        user.id,
        status=status,
        container_group_id=container_group_id,
        page=page,
        page_size=page_size,
        asc=asc,
    )
    return JSONResponse({"_count": count, "jobs": [job.to_wire() for job in jobs]})


@router.get("/jobs/{job_id}", response_model=Job, responses=JOB_DOC)
async def get_job(job_id: JobId, user: CurrentUser, store: Store) -> JSONResponse:
    return job_response(await store.get(user.id, job_id))


@router.delete("/jobs/container-groups/{container_group_id}")
async def purge_group(container_group_id: str, user: CurrentUser, store: Store) -> dict[str, int]:
    """Drop the group's pending jobs and cancel its running ones; ended jobs are kept."""
    return {"count": await store.purge(user.id, container_group_id)}


@router.delete("/jobs/{job_id}", status_code=202, responses=JOB_DOC)
async def cancel_job(job_id: JobId, user: CurrentUser, store: Store) -> dict[str, str]:
    """Cancel a pending or running job; a repeated cancel changes nothing, an ended job is 409."""
    await store.cancel(user.id, job_id)
    return {"message": "Job canceled"}


@router.get("/jobs/{job_id}/events", response_model=JobEventList, responses=JOB_DOC)
async def job_events(job_id: JobId, user: CurrentUser, store: Store) -> JSONResponse:
    """Every change of the job, oldest first."""
    events = await store.events(user.id, job_id)
    return JSONResponse(JobEventList(events=events).model_dump(mode="json"))
