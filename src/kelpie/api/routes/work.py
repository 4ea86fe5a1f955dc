"""What workers do: take work (optionally waiting for it), heartbeat, and report the end.

Every report names the machine, and the store accepts it only from the job's current holder:
that is the fencing that keeps a machine which lost its lease from touching the job.
"""

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from kelpie.api.auth import CurrentUser
from kelpie.api.responses import JOB_DOC, JobId, job_response
from kelpie.api.state import Signals, Store
from kelpie.api.waker import WAKE_AFTER_WIN, WorkKey
from kelpie.jobs import Job, JobStatus, WorkerReport

router = APIRouter(tags=["work"])

MAX_WAIT = 60.0

NonEmpty = Annotated[str, Query(min_length=1)]


@router.get("/work", response_model=list[Job])
async def take_work(
    request: Request,
    user: CurrentUser,
    store: Store,
    signals: Signals,
    machine_id: NonEmpty,
    container_group_id: NonEmpty,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT, description="Seconds to wait for work")] = 0,
) -> JSONResponse:
    """``[job]`` now held by ``machine_id``, or ``[]``; with ``wait``, ``[]`` only after waiting.

    A long poll answers as soon as a job it may take is queued, and ``[]`` at once when the
    server is stopping.
    """
    if wait == 0:  # nothing to wait for, so no wake-up to take from a waiting poll
        job = await store.claim(user.id, container_group_id, machine_id)
        return JSONResponse([] if job is None else [job.to_wire()])
    waker = signals.waker
    key = WorkKey(user.id, container_group_id)
    deadline = asyncio.get_running_loop().time() + wait
    was_woken = False
    while True:
        with waker.watch(key) as woken:
            job = await store.claim(user.id, container_group_id, machine_id)
            remaining = deadline - asyncio.get_running_loop().time()
            if job is None and remaining > 0 and not waker.closed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), remaining)
            if job is None and waker.closed:
                return JSONResponse([])
            if job is not None or not woken.is_set() or await request.is_disconnected():
                if woken.is_set() or (job is not None and was_woken):  # there may be more
                    waker.wake(key.digest, WAKE_AFTER_WIN)
                if job is not None and await request.is_disconnected():
                    await _give_back(job, machine_id, store, signals)
                    job = None
                return JSONResponse([] if job is None else [job.to_wire()])
        was_woken = True


async def _give_back(job: Job, machine_id: str, store: Store, signals: Signals) -> None:
    """The poller left while its claim ran (its worker is shutting down): release the job at
    once rather than let it wait two heartbeat intervals for a takeover."""
    await store.release(job.user_id, job.id, machine_id, job.container_group_id)
    signals.announce(WorkKey(job.user_id, job.container_group_id))


@router.post("/jobs/{job_id}/heartbeat", responses=JOB_DOC)
async def heartbeat(
    job_id: JobId, report: WorkerReport, user: CurrentUser, store: Store
) -> dict[str, JobStatus]:
    """The job's status; ``canceled`` tells a machine that does not hold the job to drop it."""
    status = await store.heartbeat(user.id, job_id, report.machine_id, report.container_group_id)
    return {"status": status}


@router.post("/jobs/{job_id}/completed", response_model=Job, responses=JOB_DOC)
async def completed(
    job_id: JobId, report: WorkerReport, user: CurrentUser, store: Store
) -> JSONResponse:
    """The holder finished the job. Anyone else, or a job that already ended: 409."""
    job = await store.complete(user.id, job_id, report.machine_id, report.container_group_id)
    return job_response(job)


@router.post("/jobs/{job_id}/failed", status_code=202, response_model=Job, responses=JOB_DOC)
async def failed(
    job_id: JobId, report: WorkerReport, user: CurrentUser, store: Store, signals: Signals
) -> JSONResponse:
    """One failed attempt: the machine is banned from the job, which another may take at once."""
    job = await store.fail(user.id, job_id, report.machine_id, report.container_group_id)
    if job.status is JobStatus.RUNNING:
        signals.announce(WorkKey(user.id, job.container_group_id))
    return job_response(job, 202)


@router.post("/jobs/{job_id}/release", status_code=202, response_model=Job, responses=JOB_DOC)
async def release(
    job_id: JobId, report: WorkerReport, user: CurrentUser, store: Store, signals: Signals
) -> JSONResponse:
    """The holder gives the job back (its machine is going away): not a failure."""
    job = await store.release(user.id, job_id, report.machine_id, report.container_group_id)
    signals.announce(WorkKey(user.id, job.container_group_id))
    return job_response(job, 202)
