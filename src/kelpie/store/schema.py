"""The tables, declared once: the Alembic migrations must produce exactly this (a test checks).

Timestamps are written only by the database (see ``clock``). ``jobs.holder`` is the machine
holding the lease now (NULL when nobody does), apart from ``machine_id``, the contract's "last
machine that held it"; a running job with no holder is free to take at once.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Timestamp = DateTime(timezone=True)
Id = String(36)
NAME_LENGTH = 255
"""Usernames, machine and container group ids, org and project names: longer ones are refused."""
Name = String(NAME_LENGTH)
EventId = BigInteger().with_variant(Integer, "sqlite")
"""SQLite numbers rows itself only for an ``INTEGER PRIMARY KEY``."""

users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True),
    Column("username", Name, nullable=False, unique=True),
    Column("created", Timestamp, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("hash", String(64), primary_key=True, comment="sha256 of the token, hex"),
    Column("user_id", Id, ForeignKey(users.c.id), nullable=False, index=True),
    Column("org_name", Name),
    Column("project_name", Name),
    Column("created", Timestamp, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Id, primary_key=True),
    Column("user_id", Id, ForeignKey(users.c.id), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created", Timestamp, nullable=False),
    Column("started", Timestamp),
    Column("completed", Timestamp),
    Column("canceled", Timestamp),
    Column("failed", Timestamp),
    Column("heartbeat", Timestamp),
    Column("num_failures", Integer, nullable=False),
    Column("num_heartbeats", Integer, nullable=False),
    Column("machine_id", Name),
    Column("holder", Name),
    Column("command", Text, nullable=False),
    Column("arguments", JSON, nullable=False),
    Column("environment", JSON, nullable=False),
    Column("max_failures", Integer, nullable=False),
    Column("heartbeat_interval", Integer, nullable=False),
    Column("container_group_id", Name, nullable=False),
    Column("webhook", Text),
    Column("compression", Boolean, nullable=False),
    Column("sync", JSON),
    Column("input_bucket", Text),
    Column("input_prefix", Text),
    Column("checkpoint_bucket", Text),
    Column("checkpoint_prefix", Text),
    Column("output_bucket", Text),
    Column("output_prefix", Text),
    # claiming: a group's jobs of one status, oldest first; listing: a user's jobs by age
    Index("ix_jobs_claim", "user_id", "container_group_id", "status", "created", "id"),
    Index("ix_jobs_listing", "user_id", "created", "id"),
)

job_bans = Table(
    "job_bans",
    metadata,
    Column("job_id", Id, ForeignKey(jobs.c.id), primary_key=True),
    Column("machine_id", Name, primary_key=True),
)

job_events = Table(
    "job_events",
    metadata,
    Column("id", EventId, primary_key=True, autoincrement=True),
    Column("job_id", Id, ForeignKey(jobs.c.id), nullable=False),
    # copied from the job (they never change) so that a group's history is one index range
    Column("user_id", Id, nullable=False),
    Column("container_group_id", Name, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("machine_id", Name),
    Column("at", Timestamp, nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_job_events_job", "job_id", "id"),
    Index("ix_job_events_group", "user_id", "container_group_id", "id"),
)
