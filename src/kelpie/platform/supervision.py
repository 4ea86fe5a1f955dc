"""When a worker process that ended is started again: pure decisions, tested without processes.

A worker that crashes is restarted with exponential backoff, reset once a run lasts long
enough to count as healthy, so a worker that cannot start does not spin. A worker struck by
the demo's chaos already has its successor running (see ``WorkerPool.strike``), and a
stopping platform starts nothing.
"""

from dataclasses import dataclass
from enum import StrEnum


class ExitReason(StrEnum):
    CRASH = "on its own"
    """It ended by itself."""
    KILLED = "killed"
    """Struck hard: SIGKILL to its whole process tree."""
    TERMINATED = "terminated"
    """Struck gracefully: SIGTERM, it released its job and exited."""
    STOP = "stop"
    """The platform is stopping."""


@dataclass(frozen=True, kw_only=True)
class RestartPolicy:
    first_delay_s: float = 0.5
    factor: float = 2.0
    max_delay_s: float = 30.0
    healthy_after_s: float = 30.0
    """A run at least this long resets the backoff."""


def quick_exits(previous: int, uptime_s: float, policy: RestartPolicy) -> int:
    """Crashes in a row that came too soon after their start; a healthy run resets the count."""
    return previous + 1 if uptime_s < policy.healthy_after_s else 0


def restart_delay(
    reason: ExitReason, quick_exits_in_row: int, policy: RestartPolicy
) -> float | None:
    """Seconds to wait before starting the slot's next worker; ``None``: do not start one."""
    if reason is ExitReason.STOP:
        return None
    if reason is not ExitReason.CRASH or quick_exits_in_row == 0:
        return 0.0
    delay = policy.first_delay_s * policy.factor ** (quick_exits_in_row - 1)
    return min(delay, policy.max_delay_s)
