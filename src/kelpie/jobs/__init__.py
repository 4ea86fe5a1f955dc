"""The job: its contract (wire models), its states and the events that move it between them.

The API, the store, the worker and the tests all read these modules, so a rule about a job is
written once, here.
"""

from kelpie.jobs.models import (
    Job,
    JobEvent,
    JobEventList,
    JobList,
    JobSubmission,
    LegacyStorage,
    SyncConfig,
    SyncSpec,
    WorkerReport,
)
from kelpie.jobs.states import (
    TERMINAL,
    EventKind,
    IllegalTransition,
    JobStatus,
    next_status,
)
from kelpie.jobs.timestamps import format_timestamp, parse_timestamp

__all__ = [
    "TERMINAL",
    "EventKind",
    "IllegalTransition",
    "Job",
    "JobEvent",
    "JobEventList",
    "JobList",
    "JobStatus",
    "JobSubmission",
    "LegacyStorage",
    "SyncConfig",
    "SyncSpec",
    "WorkerReport",
    "format_timestamp",
    "next_status",
    "parse_timestamp",
]
