"""``JobStore``: users, tokens and jobs, with every rule that must hold under concurrency.

Each method is one database transaction. The rules are enforced by the database, not by locks
in this process, because several API processes may share one PostgreSQL: a claim locks its
candidate row (``FOR UPDATE SKIP LOCKED``; on SQLite the write transaction excludes other
writers), and every report from a machine is a conditional update fenced on the holder.
Which event may happen in which status is read from ``kelpie.jobs.states``.
"""

import builtins
import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, Self

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from kelpie.jobs import (
    TERMINAL,
    EventKind,
    IllegalTransition,
    Job,
    JobEvent,
    JobStatus,
    JobSubmission,
)
from kelpie.jobs.states import HOLDABLE, allowed_from, failure_event, next_status
from kelpie.jobs.timestamps import format_timestamp
from kelpie.store import queries
from kelpie.store.engine import Engines, create_engines, translated_errors
from kelpie.store.errors import Conflict, Invalid, NotFound
from kelpie.store.migrate import upgrade_engines
from kelpie.store.records import (
    UserRecord,
    as_utc,
    event_from_row,
    job_from_row,
    job_values,
    user_from_row,
)
from kelpie.store.schema import NAME_LENGTH


def _storable(**names: str | None) -> None:
    """The same limit on both backends (SQLite would store a longer name without a word)."""
    for field, value in names.items():
        if value is not None and len(value) > NAME_LENGTH:
            raise Invalid(f"{field} is longer than {NAME_LENGTH} characters")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _event(
    job: RowMapping, kind: EventKind, machine_id: str | None = None, **detail: Any
) -> dict[str, Any]:
    return {
        "job_id": job["id"],
        "user_id": job["user_id"],
        "container_group_id": job["container_group_id"],
        "kind": kind.value,
        "machine_id": machine_id,
        "detail": detail,
    }


def _taken_event(job: RowMapping, candidate: RowMapping, machine_id: str) -> dict[str, Any]:
    if candidate["holder"] is None:
        return _event(job, EventKind.TAKEN, machine_id, after=candidate["last_event"])
    return _event(
        job,
        EventKind.TAKEN_OVER,
        machine_id,
        previous_holder=candidate["holder"],
        previous_heartbeat=format_timestamp(as_utc(candidate["heartbeat"])),
    )


async def _job_row(
    connection: AsyncConnection, user_id: str, job_id: str, *, lock: bool = False
) -> RowMapping:
    query = queries.SELECT_JOB_FOR_UPDATE if lock else queries.SELECT_JOB
    result = await connection.execute(query, {"user": user_id, "job": job_id})
    row: RowMapping | None = result.mappings().first()
    if row is None:
        raise NotFound(f"no job {job_id}")
    return row


async def _record(connection: AsyncConnection, event: dict[str, Any]) -> None:
    await connection.execute(queries.INSERT_EVENTS, event)


class JobStore:
    def __init__(self, engines: Engines) -> None:
        self._engines = engines

    @classmethod
    async def open(cls, database_url: str) -> Self:
        """Connects and brings the schema up to date (several processes may do so at once)."""
        engines = create_engines(database_url)
        try:
            await upgrade_engines(engines)
        except BaseException:
            await engines.dispose()
            raise
        return cls(engines)

    async def close(self) -> None:
        await self._engines.dispose()

    @asynccontextmanager
    async def _transaction(self, *, write: bool) -> AsyncIterator[AsyncConnection]:
        with translated_errors():
            engine = self._engines.writer if write else self._engines.reader
            async with engine.begin() as connection:
                yield connection

    async def ping(self) -> None:
        async with self._transaction(write=False) as connection:
            await connection.execute(queries.PING)

    # users and tokens

    async def create_user(self, username: str) -> UserRecord:
        """Raises ``Conflict`` if the username is taken."""
        _storable(username=username)
        async with self._transaction(write=True) as connection:
            result = await connection.execute(
                queries.INSERT_USER, {"id": str(uuid.uuid4()), "username": username}
            )
            return user_from_row(result.mappings().one())

    async def create_token(
        self, user_id: str, org_name: str | None, project_name: str | None
    ) -> str:
        """A new token for the user; only its hash is kept, so this is its only sight."""
        _storable(org_name=org_name, project_name=project_name)
        token = secrets.token_urlsafe(32)
        async with self._transaction(write=True) as connection:
            found = await connection.execute(queries.SELECT_USER, {"user": user_id})
            if found.first() is None:
                raise NotFound(f"no user {user_id}")
            await connection.execute(
                queries.INSERT_TOKEN,
                {
                    "hash": hash_token(token),
                    "user_id": user_id,
                    "org_name": org_name,
                    "project_name": project_name,
                },
            )
        return token

    async def user_for_token(self, token: str) -> UserRecord | None:
        async with self._transaction(write=False) as connection:
            result = await connection.execute(
                queries.SELECT_USER_BY_TOKEN, {"token_hash": hash_token(token)}
            )
            row = result.mappings().first()
        return None if row is None else user_from_row(row)

    async def get_user(self, user_id: str) -> UserRecord | None:
        async with self._transaction(write=False) as connection:
            result = await connection.execute(queries.SELECT_USER, {"user": user_id})
            row = result.mappings().first()
        return None if row is None else user_from_row(row)

    # jobs, as their owner sees them

    async def submit(self, user_id: str, submissions: Iterable[JobSubmission]) -> list[Job]:
        """Queues every job or none."""
        rows = []
        for submission in submissions:
            _storable(container_group_id=submission.container_group_id)
            rows.append({"id": str(uuid.uuid4()), "user_id": user_id, **job_values(submission)})
        if not rows:
            return []
        async with self._transaction(write=True) as connection:
            result = await connection.execute(queries.INSERT_JOBS, rows)
            created = builtins.list(result.mappings())
            events = [_event(job, EventKind.SUBMITTED) for job in created]
            await connection.execute(queries.INSERT_EVENTS, events)
        return [job_from_row(job) for job in created]

    async def get(self, user_id: str, job_id: str) -> Job:
        async with self._transaction(write=False) as connection:
            return job_from_row(await _job_row(connection, user_id, job_id))

    async def events(self, user_id: str, job_id: str) -> list[JobEvent]:
        """The job's history, oldest first."""
        async with self._transaction(write=False) as connection:
            result = await connection.execute(
                queries.SELECT_EVENTS, {"user": user_id, "job": job_id}
            )
            events = [event_from_row(row) for row in result.mappings()]
        if not events:
            raise NotFound(f"no job {job_id}")
        return events

    async def cancel(self, user_id: str, job_id: str) -> Job:
        """Cancels a pending or running job; a canceled one is returned as it is (a repeated
        cancel is a no-op), an ended one raises ``Conflict``. The holder learns it from its
        next heartbeat."""
        async with self._transaction(write=True) as connection:
            job = await _job_row(connection, user_id, job_id, lock=True)
            status = JobStatus(job["status"])
            if status is JobStatus.CANCELED:
                return job_from_row(job)
            try:
                target = next_status(EventKind.CANCELED, status)
            except IllegalTransition as error:
                raise Conflict(str(error)) from error
            result = await connection.execute(queries.END[target], {"job": job_id})
            canceled = result.mappings().one()
            await _record(
                connection,
                _event(job, EventKind.CANCELED, previous_status=status.value, holder=job["holder"]),
            )
        return job_from_row(canceled)

    async def purge(self, user_id: str, container_group_id: str) -> int:
        """Cancels every pending and running job of the group and returns how many.

        The rows are kept, canceled with an event that says they were purged, rather than
        deleted: nothing a user submitted disappears without a trace, and the holders of
        running jobs learn it from their next heartbeat.
        """
        events = []
        async with self._transaction(write=True) as connection:
            for status in sorted(allowed_from(EventKind.CANCELED)):
                result = await connection.execute(
                    queries.CANCEL_GROUP,
                    {"user": user_id, "group": container_group_id, "from_status": status.value},
                )
                events += [
                    _event(job, EventKind.CANCELED, previous_status=status.value, purged=True)
                    for job in result.mappings()
                ]
            if events:
                await connection.execute(queries.INSERT_EVENTS, events)
        return len(events)

    async def list(
        self,
        user_id: str,
        *,
        status: JobStatus | None = None,
        container_group_id: str | None = None,
        page: int = 1,
        page_size: int = 100,
        asc: bool = False,
    ) -> tuple[int, builtins.list[Job]]:
        """The number of matching jobs, and one page of them (pages count from 1) by age."""
        by = {"by_status": status is not None, "by_group": container_group_id is not None}
        parameters = {
            "user": user_id,
            "status": None if status is None else status.value,
            "group": container_group_id,
            "offset": (page - 1) * page_size,
            "limit": page_size,
        }
        async with self._transaction(write=False) as connection:
            count = await connection.scalar(queries.count_jobs(**by), parameters)
            result = await connection.execute(queries.page_of_jobs(**by, asc=asc), parameters)
            return int(count or 0), [job_from_row(row) for row in result.mappings()]

    # jobs, as workers see them

    async def has_claimable(
        self, user_id: str, container_group_id: str, machine_id: str | None = None
    ) -> bool:
        """Whether ``claim`` could find a job now (for the long poll; cheap, takes nothing).
        Given ``machine_id``, jobs that machine is banned from do not count."""
        parameters = {"user": user_id, "group": container_group_id, "machine": machine_id}
        query = queries.ANY_CLAIMABLE if machine_id is None else queries.ANY_CLAIMABLE_FOR_MACHINE
        async with self._transaction(write=False) as connection:
            return bool(await connection.scalar(query, parameters))

    async def claim(self, user_id: str, container_group_id: str, machine_id: str) -> Job | None:
        """Takes the next job for this machine, or ``None``: free running jobs first (taken
        over from a silent holder, released, or after a failed attempt), then pending ones,
        each oldest first; never a job this machine has failed."""
        _storable(machine_id=machine_id)
        parameters = {"user": user_id, "group": container_group_id, "machine": machine_id}
        async with self._transaction(write=True) as connection:
            for query in queries.CLAIM_CANDIDATES:
                candidate = (await connection.execute(query, parameters)).mappings().first()
                if candidate is not None:
                    break
            else:
                return None
            result = await connection.execute(queries.TAKE, {**parameters, "job": candidate["id"]})
            job = result.mappings().first()
            if job is None:
                return None
            await _record(connection, _taken_event(job, candidate, machine_id))
        return job_from_row(job)

    async def heartbeat(
        self, user_id: str, job_id: str, machine_id: str, container_group_id: str
    ) -> JobStatus:
        """``running`` while this machine holds the job. Otherwise nothing changes and the
        answer tells the machine to stop: the job's status if it ended, else ``canceled``."""
        async with self._transaction(write=True) as connection:
            result = await connection.execute(
                queries.HEARTBEAT, _report(user_id, job_id, machine_id, container_group_id)
            )
            status = result.scalar()
            if status is not None:
                return JobStatus(status)
            current = JobStatus((await _job_row(connection, user_id, job_id))["status"])
        return current if current in TERMINAL else JobStatus.CANCELED

    async def complete(
        self, user_id: str, job_id: str, machine_id: str, container_group_id: str
    ) -> Job:
        async with self._transaction(write=True) as connection:
            job = await _fenced(
                connection,
                queries.COMPLETE,
                _report(user_id, job_id, machine_id, container_group_id),
            )
            await _record(connection, _event(job, EventKind.COMPLETED, machine_id))
        return job_from_row(job)

    async def fail(
        self, user_id: str, job_id: str, machine_id: str, container_group_id: str
    ) -> Job:
        """One failed attempt: the machine is banned from the job, which is free at once for
        another machine, or ends ``failed`` when the failures reach ``max_failures``."""
        async with self._transaction(write=True) as connection:
            job = await _fenced(
                connection,
                queries.FAIL_ATTEMPT,
                _report(user_id, job_id, machine_id, container_group_id),
            )
            await connection.execute(queries.BAN, {"job_id": job_id, "machine_id": machine_id})
            kind = failure_event(job["num_failures"], job["max_failures"])
            if kind is EventKind.FAILED:
                target = next_status(kind, JobStatus(job["status"]))
                job = (
                    (await connection.execute(queries.END[target], {"job": job_id}))
                    .mappings()
                    .one()
                )
            failures = {"num_failures": job["num_failures"], "max_failures": job["max_failures"]}
            await _record(connection, _event(job, kind, machine_id, **failures))
        return job_from_row(job)

    async def release(
        self, user_id: str, job_id: str, machine_id: str, container_group_id: str
    ) -> Job:
        """The holder gives the job back (its machine is going away): free at once for any
        machine, this one included; not a failure."""
        async with self._transaction(write=True) as connection:
            job = await _fenced(
                connection,
                queries.RELEASE,
                _report(user_id, job_id, machine_id, container_group_id),
            )
            await _record(connection, _event(job, EventKind.RELEASED, machine_id))
        return job_from_row(job)


def _report(user_id: str, job_id: str, machine_id: str, container_group_id: str) -> dict[str, str]:
    return {"user": user_id, "job": job_id, "machine": machine_id, "group": container_group_id}


async def _fenced(
    connection: AsyncConnection, statement: Any, parameters: dict[str, str]
) -> RowMapping:
    """Runs an update fenced on the holder; if it changed nothing, says why."""
    row: RowMapping | None = (await connection.execute(statement, parameters)).mappings().first()
    if row is not None:
        return row
    job = await _job_row(connection, parameters["user"], parameters["job"])
    if JobStatus(job["status"]) not in HOLDABLE:
        raise Conflict(f"job {parameters['job']} is {job['status']}")
    raise Conflict(f"machine {parameters['machine']} does not hold job {parameters['job']}")
