"""The contract's wire models: what users submit, what every job response looks like.

Submissions are strict (a wrong type is a clear 422 naming the field, never a coerced value);
responses are lenient on the way in, because our worker also reads jobs from the original API.
Unknown fields are ignored, as the original does.
"""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AnyUrl,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_serializer,
    field_validator,
    model_validator,
)

from kelpie.jobs.states import EventKind, JobStatus
from kelpie.jobs.timestamps import format_timestamp

Direction = Literal["download", "upload"]
NonEmpty = Annotated[StrictStr, Field(min_length=1)]

INT32_MAX = 2**31 - 1
"""The largest count or interval both databases store in an integer column."""

LEGACY_FIELDS = (
    "input_bucket",
    "input_prefix",
    "checkpoint_bucket",
    "checkpoint_prefix",
    "output_bucket",
    "output_prefix",
)


def normalise_prefix(prefix: str) -> str:
    """A non-empty prefix names a folder, so it ends in ``/``; an empty one is the whole bucket."""
    return prefix if prefix == "" or prefix.endswith("/") else prefix + "/"


class SyncConfig(BaseModel):
    model_config = ConfigDict(extra="ignore")

    bucket: NonEmpty
    prefix: StrictStr
    local_path: NonEmpty
    direction: Direction
    pattern: StrictStr | None = None

    @field_validator("prefix")
    @classmethod
    def _prefix_is_a_folder(cls, value: str) -> str:
        return normalise_prefix(value)

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern is not a valid regular expression: {exc}") from exc
        return value


def _all_direction(configs: list[SyncConfig], direction: Direction, where: str) -> None:
    for index, config in enumerate(configs):
        if config.direction != direction:
            raise ValueError(
                f"sync.{where}[{index}].direction must be '{direction}', not '{config.direction}'"
            )


class SyncSpec(BaseModel):
    model_config = ConfigDict(extra="ignore")

    before: list[SyncConfig] = Field(default_factory=list)
    during: list[SyncConfig] = Field(default_factory=list)
    after: list[SyncConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _directions(self) -> "SyncSpec":
        _all_direction(self.before, "download", "before")
        _all_direction(self.during, "upload", "during")
        _all_direction(self.after, "upload", "after")
        return self


class LegacyStorage(BaseModel):
    """The six legacy storage fields, all or none."""

    input_bucket: NonEmpty
    input_prefix: StrictStr
    checkpoint_bucket: NonEmpty
    checkpoint_prefix: StrictStr
    output_bucket: NonEmpty
    output_prefix: StrictStr


def _check_storage_form(data: Any) -> Any:
    """A job names its storage with ``sync`` or with all six legacy fields: exactly one form."""
    if not isinstance(data, dict):
        return data
    has_sync = data.get("sync") is not None
    legacy_given = [name for name in LEGACY_FIELDS if data.get(name) is not None]
    if has_sync and legacy_given:
        raise ValueError(
            "use either sync or the legacy storage fields, not both "
            f"(got sync and {', '.join(legacy_given)})"
        )
    if not has_sync and len(legacy_given) != len(LEGACY_FIELDS):
        if not legacy_given:
            raise ValueError("a job needs sync, or all six legacy storage fields")
        missing = [name for name in LEGACY_FIELDS if name not in legacy_given]
        raise ValueError(f"legacy storage fields missing: {', '.join(missing)}")
    return data


class JobSubmission(BaseModel):
    """The body of ``POST /jobs`` (and each item of ``POST /jobs/batch``)."""

    model_config = ConfigDict(extra="ignore")

    command: NonEmpty
    arguments: list[StrictStr] = Field(default_factory=list)
    environment: dict[str, StrictStr] = Field(default_factory=dict)
    max_failures: StrictInt = Field(default=3, ge=1, le=INT32_MAX)
    heartbeat_interval: StrictInt = Field(default=30, ge=1, le=INT32_MAX)
    container_group_id: NonEmpty
    webhook: AnyUrl | None = None
    compression: StrictBool = False
    sync: SyncSpec | None = None
    input_bucket: StrictStr | None = None
    input_prefix: StrictStr | None = None
    checkpoint_bucket: StrictStr | None = None
    checkpoint_prefix: StrictStr | None = None
    output_bucket: StrictStr | None = None
    output_prefix: StrictStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_storage_form(cls, data: Any) -> Any:
        return _check_storage_form(data)

    @field_validator("webhook")
    @classmethod
    def _webhook_is_http(cls, value: AnyUrl | None) -> AnyUrl | None:
        if value is not None and value.scheme not in ("http", "https"):
            raise ValueError("webhook must be an http or https URL")
        return value

    @field_validator("input_prefix", "checkpoint_prefix", "output_prefix")
    @classmethod
    def _legacy_prefix_is_a_folder(cls, value: str | None) -> str | None:
        return None if value is None else normalise_prefix(value)


class Job(BaseModel):
    """A job as every response shows it. Null timestamps are left out, as the original does."""

    model_config = ConfigDict(extra="ignore")

    id: str
    user_id: str
    status: JobStatus
    created: datetime
    started: datetime | None = None
    completed: datetime | None = None
    canceled: datetime | None = None
    failed: datetime | None = None
    heartbeat: datetime | None = None
    num_failures: int = 0
    machine_id: str | None = None
    command: str
    arguments: list[str] = Field(default_factory=list)
    environment: dict[str, str] = Field(default_factory=dict)
    max_failures: int = 3
    heartbeat_interval: int = 30
    container_group_id: str
    webhook: str | None = None
    compression: bool = False
    num_heartbeats: int = 0
    sync: SyncSpec | None = None
    input_bucket: str | None = None
    input_prefix: str | None = None
    checkpoint_bucket: str | None = None
    checkpoint_prefix: str | None = None
    output_bucket: str | None = None
    output_prefix: str | None = None

    @field_serializer("created", "started", "completed", "canceled", "failed", "heartbeat")
    def _timestamp(self, value: datetime | None) -> str | None:
        return None if value is None else format_timestamp(value)

    def to_wire(self) -> dict[str, Any]:
        """The response body: null timestamps and absent storage forms are left out."""
        body = self.model_dump(mode="json")
        for name in ("started", "completed", "canceled", "failed", "heartbeat"):
            if body[name] is None:
                del body[name]
        if self.sync is None:
            del body["sync"]
        else:
            for name in LEGACY_FIELDS:
                del body[name]
            for configs in body["sync"].values():
                for config in configs:
                    if config["pattern"] is None:
                        del config["pattern"]
        return body


class JobList(BaseModel):
    """The body of ``GET /jobs``."""

    count: int = Field(alias="_count")
    jobs: list[Job]


class WorkerReport(BaseModel):
    """The body of heartbeat, completed, failed and release reports."""

    model_config = ConfigDict(extra="ignore")

    machine_id: NonEmpty
    container_group_id: NonEmpty


class JobEvent(BaseModel):
    """One recorded change of a job, as ``GET /jobs/{id}/events`` serves it (oldest first).

    ``detail`` carries what the event needs to be read alone, e.g. for ``taken_over`` the
    previous holder and its last heartbeat, for ``attempt_failed`` the new ``num_failures``.
    """

    id: int
    job_id: str
    kind: EventKind
    machine_id: str | None = None
    at: datetime
    detail: dict[str, Any] = Field(default_factory=dict)

    @field_serializer("at")
    def _timestamp(self, value: datetime) -> str:
        return format_timestamp(value)


class JobEventList(BaseModel):
    """The body of ``GET /jobs/{id}/events``."""

    events: list[JobEvent]
