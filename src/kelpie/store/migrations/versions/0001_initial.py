"""Users, tokens, jobs, machine bans and job events.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime(timezone=True)
Id = sa.String(36)
Name = sa.String(255)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", Id, nullable=False),
        sa.Column("username", Name, nullable=False),
        sa.Column("created", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "tokens",
        sa.Column("hash", sa.String(64), nullable=False, comment="sha256 of the token, hex"),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("org_name", Name),
        sa.Column("project_name", Name),
        sa.Column("created", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_tokens_user_id_users"),
        sa.PrimaryKeyConstraint("hash", name="pk_tokens"),
    )
    op.create_index("ix_tokens_user_id", "tokens", ["user_id"])
    op.create_table(
        "jobs",
        sa.Column("id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created", Timestamp, nullable=False),
        sa.Column("started", Timestamp),
        sa.Column("completed", Timestamp),
        sa.Column("canceled", Timestamp),
        sa.Column("failed", Timestamp),
        sa.Column("heartbeat", Timestamp),
        sa.Column("num_failures", sa.Integer(), nullable=False),
        sa.Column("num_heartbeats", sa.Integer(), nullable=False),
        sa.Column("machine_id", Name),
        sa.Column("holder", Name),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("environment", sa.JSON(), nullable=False),
        sa.Column("max_failures", sa.Integer(), nullable=False),
        sa.Column("heartbeat_interval", sa.Integer(), nullable=False),
        sa.Column("container_group_id", Name, nullable=False),
        sa.Column("webhook", sa.Text()),
        sa.Column("compression", sa.Boolean(), nullable=False),
        sa.Column("sync", sa.JSON()),
        sa.Column("input_bucket", sa.Text()),
        sa.Column("input_prefix", sa.Text()),
        sa.Column("checkpoint_bucket", sa.Text()),
        sa.Column("checkpoint_prefix", sa.Text()),
        sa.Column("output_bucket", sa.Text()),
        sa.Column("output_prefix", sa.Text()),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_jobs_user_id_users"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index(
        "ix_jobs_claim", "jobs", ["user_id", "container_group_id", "status", "created", "id"]
    )
    op.create_index("ix_jobs_listing", "jobs", ["user_id", "created", "id"])
    op.create_table(
        "job_bans",
        sa.Column("job_id", Id, nullable=False),
        sa.Column("machine_id", Name, nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_job_bans_job_id_jobs"),
        sa.PrimaryKeyConstraint("job_id", "machine_id", name="pk_job_bans"),
    )
    op.create_table(
        "job_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("job_id", Id, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("container_group_id", Name, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("machine_id", Name),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name="fk_job_events_job_id_jobs"),
        sa.PrimaryKeyConstraint("id", name="pk_job_events"),
    )
    op.create_index("ix_job_events_job", "job_events", ["job_id", "id"])
    op.create_index("ix_job_events_group", "job_events", ["user_id", "container_group_id", "id"])


def downgrade() -> None:
    for table in ("job_events", "job_bans", "jobs", "tokens", "users"):
        op.drop_table(table)
