"""What the worker's exit code tells the orchestrator (documented in docs/worker.md)."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """Stopped by SIGTERM/SIGINT (any job was released first), or the platform replaced us."""
    ERROR = 1
    """An unexpected error; restarting the worker is the right thing to do."""
    BAD_SETTINGS = 2
    """A setting is missing or malformed; restarting will not help until it is fixed."""
    IDLE = 3
    """No work for ``MAX_TIME_WITH_NO_WORK_S``: this replica may be scaled away."""
    NEEDS_NEW_MACHINE = 4
    """``MAX_JOB_FAILURES`` jobs failed here: run this worker on another machine."""
    RECREATE = 5
    """``KELPIE_RECREATE_BETWEEN_JOBS``: a job ended; start a fresh container for the next."""
