"""Every SQL statement of the store, built once and named: all the SQL can be read in one place.

Values come in as bind parameters (``:user``, ``:job``, ``:machine``, ``:group``, or the column
names for inserts), so each statement is compiled once per dialect. Which statuses an event
may happen in, and where it leads, is read from ``kelpie.jobs.states`` and written into the
statements' WHERE clauses: a wrong transition cannot happen however the code above is called;
the caller checks whether a row came back.
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Update,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)

from kelpie.jobs import TERMINAL, EventKind, JobStatus
from kelpie.jobs.states import HOLDABLE, allowed_from, next_status
from kelpie.store.clock import db_now, seconds_ago
from kelpie.store.schema import job_bans, job_events, jobs, tokens, users

STALE_AFTER_HEARTBEATS = 2
"""A holder that missed this many heartbeat intervals is presumed gone."""

_user: BindParameter[str] = bindparam("user")
_job: BindParameter[str] = bindparam("job")
_machine: BindParameter[str] = bindparam("machine")
_group: BindParameter[str] = bindparam("group")


def _statuses(statuses: Iterable[JobStatus]) -> list[str]:
    return sorted(status.value for status in statuses)


PING = select(literal(1))

MIGRATION_LOCK = select(func.pg_advisory_xact_lock(bindparam("key")))
"""PostgreSQL only: held until the migrating transaction ends."""


# users and tokens

INSERT_USER = insert(users).values(created=db_now()).returning(users)
"""Parameters: ``id``, ``username``."""

SELECT_USER = select(users).where(users.c.id == _user)

INSERT_TOKEN = insert(tokens).values(created=db_now())
"""Parameters: ``hash``, ``user_id``, ``org_name``, ``project_name``."""

SELECT_USER_BY_TOKEN = (
    select(users)
    .join(tokens, tokens.c.user_id == users.c.id)
    .where(tokens.c.hash == bindparam("token_hash"))
)


# reading jobs

_owned = and_(jobs.c.id == _job, jobs.c.user_id == _user)

SELECT_JOB = select(jobs).where(_owned)
SELECT_JOB_FOR_UPDATE = SELECT_JOB.with_for_update()


def _listing_filter(*, by_status: bool, by_group: bool) -> list[ColumnElement[bool]]:
    conditions = [jobs.c.user_id == _user]
    if by_status:
        conditions.append(jobs.c.status == bindparam("status"))
    if by_group:
        conditions.append(jobs.c.container_group_id == _group)
    return conditions


def count_jobs(*, by_status: bool, by_group: bool) -> Select[Any]:
    """Parameters: ``user``, and ``status`` and ``group`` when filtered by them."""
    where = _listing_filter(by_status=by_status, by_group=by_group)
    return select(func.count()).select_from(jobs).where(*where)


def page_of_jobs(*, by_status: bool, by_group: bool, asc: bool) -> Select[Any]:
    """Parameters: as ``count_jobs``, and ``offset`` and ``limit``."""
    order = (jobs.c.created, jobs.c.id) if asc else (jobs.c.created.desc(), jobs.c.id.desc())
    return (
        select(jobs)
        .where(*_listing_filter(by_status=by_status, by_group=by_group))
        .order_by(*order)
        .offset(bindparam("offset"))
        .limit(bindparam("limit"))
    )


# submitting; both executed with one parameter set per row

INSERT_JOBS = insert(jobs).values(created=db_now()).returning(*jobs.c, sort_by_parameter_order=True)

INSERT_EVENTS = insert(job_events).values(at=db_now())
"""Parameters: ``job_id``, ``user_id``, ``container_group_id``, ``kind``, ``machine_id``,
``detail``."""


# claiming

_in_group = and_(jobs.c.user_id == _user, jobs.c.container_group_id == _group)
_not_banned = ~exists().where(job_bans.c.job_id == jobs.c.id, job_bans.c.machine_id == _machine)
_pending = jobs.c.status == JobStatus.PENDING.value
_free_running = and_(
    jobs.c.status.in_(_statuses(allowed_from(EventKind.TAKEN_OVER))),
    or_(
        jobs.c.holder.is_(None),
        jobs.c.heartbeat < seconds_ago(STALE_AFTER_HEARTBEATS * jobs.c.heartbeat_interval),
    ),
)
"""A running job nobody holds (released, or after a failed attempt), or whose holder is
presumed gone."""

_last_event = (
    select(job_events.c.kind)
    .where(job_events.c.job_id == jobs.c.id)
    .order_by(job_events.c.id.desc())
    .limit(1)
    .scalar_subquery()
)


def _claim_candidate(free: ColumnElement[bool]) -> Select[Any]:
    """The oldest job this machine may take among ``free`` ones, locked.

    Rows other claimers have locked are skipped on PostgreSQL; SQLite ignores ``FOR UPDATE``,
    its write transaction already excludes every other writer. The candidate's last event
    tells the ``taken`` event why the job was free.
    """
    return (
        select(
            jobs.c.id,
            jobs.c.status,
            jobs.c.holder,
            jobs.c.heartbeat,
            _last_event.label("last_event"),
        )
        .where(_in_group, _not_banned, free)
        .order_by(jobs.c.created, jobs.c.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=jobs)
    )


CLAIM_CANDIDATES = (_claim_candidate(_free_running), _claim_candidate(_pending))
"""Asked in this order (free running jobs first, then pending ones), each one ordered range of
the ``ix_jobs_claim`` index."""

ANY_CLAIMABLE = select(exists().where(_in_group, or_(_pending, _free_running)))
ANY_CLAIMABLE_FOR_MACHINE = select(
    exists().where(_in_group, _not_banned, or_(_pending, _free_running))
)

_clock = select(db_now().label("now")).cte("clock")
_now_once = select(_clock.c.now).scalar_subquery()  # so that a first start is its heartbeat

TAKE = (
    update(jobs)
    .add_cte(_clock)
    .where(jobs.c.id == _job, _in_group, _not_banned, or_(_pending, _free_running))
    .values(
        status=next_status(EventKind.TAKEN, JobStatus.PENDING).value,
        holder=_machine,
        machine_id=_machine,
        heartbeat=_now_once,
        started=func.coalesce(jobs.c.started, _now_once),
    )
    .returning(jobs)
)
"""Takes the candidate, if it is still free: the candidate's lock makes that certain already,
the condition keeps the write correct on its own."""


# reports from the holder: each is fenced on the holder and the status


def _held(event: EventKind | None = None) -> ColumnElement[bool]:
    """Held by ``:machine`` in a status where ``event`` may happen (any, for a heartbeat)."""
    statuses = HOLDABLE if event is None else allowed_from(event)
    return and_(
        _owned,
        jobs.c.container_group_id == _group,
        jobs.c.status.in_(_statuses(statuses)),
        jobs.c.holder == _machine,
    )


HEARTBEAT = (
    update(jobs)
    .where(_held())
    .values(heartbeat=db_now(), num_heartbeats=jobs.c.num_heartbeats + 1)
    .returning(jobs.c.status)
)

COMPLETE = (
    update(jobs)
    .where(_held(EventKind.COMPLETED))
    .values(
        status=next_status(EventKind.COMPLETED, JobStatus.RUNNING).value,
        holder=None,
        completed=db_now(),
    )
    .returning(jobs)
)

FAIL_ATTEMPT = (
    update(jobs)
    .where(_held(EventKind.ATTEMPT_FAILED))
    .values(holder=None, num_failures=jobs.c.num_failures + 1)
    .returning(jobs)
)
"""The holder lets the job go and the failure is counted; the caller decides whether it was
the last (``END[failed]``)."""

RELEASE = update(jobs).where(_held(EventKind.RELEASED)).values(holder=None).returning(jobs)

BAN = insert(job_bans)
"""Parameters: ``job_id``, ``machine_id``."""


# ending a job in a terminal status, whose timestamp column has the same name


def _end(status: JobStatus) -> Update:
    return (
        update(jobs)
        .where(jobs.c.id == _job)
        .values({"status": status.value, "holder": None, status.value: db_now()})
        .returning(jobs)
    )


END = {status: _end(status) for status in TERMINAL}
"""For a job the caller has already checked and locked."""

CANCEL_GROUP = (
    update(jobs)
    .where(_in_group, jobs.c.status == bindparam("from_status"))
    .values(status=JobStatus.CANCELED.value, holder=None, canceled=db_now())
    .returning(jobs.c.id, jobs.c.user_id, jobs.c.container_group_id)
)
"""One status at a time, so that each event can say which status the job was canceled from."""


# events

SELECT_EVENTS = (
    select(job_events)
    .where(job_events.c.job_id == _job, job_events.c.user_id == _user)
    .order_by(job_events.c.id)
)
"""A job's history, oldest first; never empty for an existing job (it was submitted)."""
