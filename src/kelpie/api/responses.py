"""Response helpers shared by the routes: jobs on the wire, ids in paths."""

import uuid
from typing import Annotated, Any

from fastapi import Depends
from fastapi.responses import JSONResponse

from kelpie.jobs import Job
from kelpie.store.errors import NotFound

JOB_DOC: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such job for this user (another user's job looks the same)"}
}


def job_response(job: Job, status_code: int = 200) -> JSONResponse:
    """A job as the contract shows it: null timestamps and the unused storage form left out."""
    return JSONResponse(job.to_wire(), status_code=status_code)


def _existing(value: str, what: str) -> str:
    """Jobs and users are named by UUIDs; any other id cannot exist: a 404 without a query."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{what} {value!r} not found") from None
    return value


async def _job_id(job_id: str) -> str:
    return _existing(job_id, "job")


async def _user_id(user_id: str) -> str:
    return _existing(user_id, "user")


JobId = Annotated[str, Depends(_job_id)]  # coroutines: see kelpie.api.state
UserId = Annotated[str, Depends(_user_id)]
