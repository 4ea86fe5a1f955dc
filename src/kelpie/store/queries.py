"""Every SQL statement of the store, as named builders: all the SQL can be read in one place.

Conditions that guard a change are in the statements themselves (``WHERE status IN ... AND
holder = :machine``), so a wrong transition cannot happen however the code above is called;
the caller checks whether a row came back.
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Update,
    and_,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from kelpie.jobs import JobStatus
from kelpie.store.clock import db_now, seconds_ago
from kelpie.store.schema import job_bans, job_events, jobs, tokens, users

STALE_AFTER_HEARTBEATS = 2
"""A holder that missed this many heartbeat intervals is presumed gone."""


# users and tokens


def insert_user(user_id: str, username: str) -> Insert:
    return insert(users).values(id=user_id, username=username, created=db_now()).returning(users)


def select_user(user_id: str) -> Select[Any]:
    return select(users).where(users.c.id == user_id)


def insert_token(
    token_hash: str, user_id: str, org_name: str | None, project_name: str | None
) -> Insert:
    return insert(tokens).values(
        hash=token_hash,
        user_id=user_id,
        org_name=org_name,
        project_name=project_name,
        created=db_now(),
    )


def select_user_by_token(token_hash: str) -> Select[Any]:
    return (
        select(users)
        .join(tokens, tokens.c.user_id == users.c.id)
        .where(tokens.c.hash == token_hash)
    )


# reading jobs


def _owned(user_id: str, job_id: str) -> ColumnElement[bool]:
    return and_(jobs.c.id == job_id, jobs.c.user_id == user_id)


def select_job(user_id: str, job_id: str, *, lock: bool = False) -> Select[Any]:
    query = select(jobs).where(_owned(user_id, job_id))
    return query.with_for_update() if lock else query


def _listing_filter(
    user_id: str, status: JobStatus | None, container_group_id: str | None
) -> ColumnElement[bool]:
    conditions = [jobs.c.user_id == user_id]
    if status is not None:
        conditions.append(jobs.c.status == status.value)
    if container_group_id is not None:
        conditions.append(jobs.c.container_group_id == container_group_id)
    return and_(*conditions)


def count_jobs(
    user_id: str, status: JobStatus | None, container_group_id: str | None
) -> Select[Any]:
    where = _listing_filter(user_id, status, container_group_id)
    return select(func.count()).select_from(jobs).where(where)


def page_of_jobs(
    user_id: str,
    status: JobStatus | None,
    container_group_id: str | None,
    *,
    page: int,
    page_size: int,
    asc: bool,
) -> Select[Any]:
    order = (jobs.c.created, jobs.c.id) if asc else (jobs.c.created.desc(), jobs.c.id.desc())
    return (
        select(jobs)
        .where(_listing_filter(user_id, status, container_group_id))
        .order_by(*order)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )


# submitting


def insert_jobs() -> Insert:
    """Executed with one parameter set per job; ``created`` is the database's time."""
    return insert(jobs).values(created=db_now()).returning(*jobs.c, sort_by_parameter_order=True)


def insert_events() -> Insert:
    """Executed with one parameter set per event (``job_id``, ``user_id``,
    ``container_group_id``, ``kind``, ``machine_id``, ``detail``)."""
    return insert(job_events).values(at=db_now())


# claiming


def _eligible(user_id: str, container_group_id: str, machine_id: str) -> ColumnElement[bool]:
    banned = exists().where(job_bans.c.job_id == jobs.c.id, job_bans.c.machine_id == machine_id)
    return and_(jobs.c.user_id == user_id, jobs.c.container_group_id == container_group_id, ~banned)


def _free_running() -> ColumnElement[bool]:
    """A running job nobody holds (released, or after a failed attempt), or whose holder is
    presumed gone."""
    stale = jobs.c.heartbeat < seconds_ago(STALE_AFTER_HEARTBEATS * jobs.c.heartbeat_interval)
    return and_(jobs.c.status == JobStatus.RUNNING.value, or_(jobs.c.holder.is_(None), stale))


def claim_candidate(
    user_id: str, container_group_id: str, machine_id: str, *, running: bool
) -> Select[Any]:
    """The oldest job this machine may take, among free running jobs or among pending ones.

    Asked in two steps (running first, then pending) so that each is one ordered range of the
    ``ix_jobs_claim`` index. Rows other claimers have locked are skipped on PostgreSQL; SQLite
    ignores ``FOR UPDATE``, its write transaction already excludes every other writer.
    The candidate's last event tells the ``taken`` event why the job was free.
    """
    free = _free_running() if running else jobs.c.status == JobStatus.PENDING.value
    last_event = (
        select(job_events.c.kind)
        .where(job_events.c.job_id == jobs.c.id)
        .order_by(job_events.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            jobs.c.id,
            jobs.c.status,
            jobs.c.holder,
            jobs.c.heartbeat,
            last_event.label("last_event"),
        )
        .where(_eligible(user_id, container_group_id, machine_id), free)
        .order_by(jobs.c.created, jobs.c.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=jobs)
    )


def any_claimable(user_id: str, container_group_id: str, machine_id: str | None) -> Select[Any]:
    where = [
        jobs.c.user_id == user_id,
        jobs.c.container_group_id == container_group_id,
        or_(jobs.c.status == JobStatus.PENDING.value, _free_running()),
    ]
    if machine_id is not None:
        where.append(_eligible(user_id, container_group_id, machine_id))
    return select(exists().where(*where))


def take(job_id: str, machine_id: str) -> Update:
    clock = select(db_now().label("now")).cte("clock")  # read once: a first start is its heartbeat
    now = select(clock.c.now).scalar_subquery()
    return (
        update(jobs)
        .add_cte(clock)
        .where(jobs.c.id == job_id)
        .values(
            status=JobStatus.RUNNING.value,
            holder=machine_id,
            machine_id=machine_id,
            heartbeat=now,
            started=func.coalesce(jobs.c.started, now),
        )
        .returning(jobs)
    )


# reports from the holder: each is fenced on the holder and the status


def _held_by(
    user_id: str,
    job_id: str,
    machine_id: str,
    container_group_id: str,
    statuses: Iterable[JobStatus],
) -> ColumnElement[bool]:
    return and_(
        _owned(user_id, job_id),
        jobs.c.container_group_id == container_group_id,
        jobs.c.status.in_([status.value for status in statuses]),
        jobs.c.holder == machine_id,
    )


def record_heartbeat(
    user_id: str,
    job_id: str,
    machine_id: str,
    container_group_id: str,
    statuses: Iterable[JobStatus],
) -> Update:
    return (
        update(jobs)
        .where(_held_by(user_id, job_id, machine_id, container_group_id, statuses))
        .values(heartbeat=db_now(), num_heartbeats=jobs.c.num_heartbeats + 1)
        .returning(jobs.c.status)
    )


def let_go(
    user_id: str,
    job_id: str,
    machine_id: str,
    container_group_id: str,
    statuses: Iterable[JobStatus],
    *,
    failed_attempt: bool,
) -> Update:
    """The holder gives the job up: after a failed attempt (counted) or a release (not)."""
    values: dict[str, Any] = {"holder": None}
    if failed_attempt:
        values["num_failures"] = jobs.c.num_failures + 1
    return (
        update(jobs)
        .where(_held_by(user_id, job_id, machine_id, container_group_id, statuses))
        .values(**values)
        .returning(jobs)
    )


def finish_held(
    user_id: str,
    job_id: str,
    machine_id: str,
    container_group_id: str,
    statuses: Iterable[JobStatus],
    status: JobStatus,
) -> Update:
    """The holder ends the job in ``status``, whose timestamp column has the same name."""
    return (
        update(jobs)
        .where(_held_by(user_id, job_id, machine_id, container_group_id, statuses))
        .values({"status": status.value, "holder": None, status.value: db_now()})
        .returning(jobs)
    )


def ban(job_id: str, machine_id: str) -> Insert:
    return insert(job_bans).values(job_id=job_id, machine_id=machine_id)


# ending jobs without a holder's report


def end(job_id: str, status: JobStatus) -> Update:
    """Ends the job (already checked and locked by the caller) in ``status``."""
    return (
        update(jobs)
        .where(jobs.c.id == job_id)
        .values({"status": status.value, "holder": None, status.value: db_now()})
        .returning(jobs)
    )


def cancel_group(user_id: str, container_group_id: str, status: JobStatus) -> Update:
    """Cancels the group's jobs that are in ``status``; one status at a time so that each
    event can say which status the job was canceled from."""
    return (
        update(jobs)
        .where(
            jobs.c.user_id == user_id,
            jobs.c.container_group_id == container_group_id,
            jobs.c.status == status.value,
        )
        .values(status=JobStatus.CANCELED.value, holder=None, canceled=db_now())
        .returning(jobs.c.id, jobs.c.user_id, jobs.c.container_group_id)
    )


# events


def select_events(user_id: str, job_id: str) -> Select[Any]:
    """A job's history, oldest first; never empty for an existing job (it was submitted)."""
    return (
        select(job_events)
        .where(job_events.c.job_id == job_id, job_events.c.user_id == user_id)
        .order_by(job_events.c.id)
    )
