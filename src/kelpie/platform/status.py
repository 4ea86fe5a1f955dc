"""The one-screen status of the local platform: workers, queue, running jobs.

Gathering (``snapshot``) is apart from drawing (``render``), so the drawing is a pure function.
"""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from kelpie.client import ApiError, KelpieClient
from kelpie.jobs import Job, JobStatus
from kelpie.platform.workers import SlotState, WorkerPool, WorkerView

STATE_STYLES = {SlotState.RUNNING: "green", SlotState.WAITING: "yellow", SlotState.STOPPED: "red"}


@dataclass(frozen=True)
class Snapshot:
    workers: list[WorkerView]
    counts: dict[JobStatus, int]
    running: list[Job]
    now: datetime
    api_error: str | None = None


async def snapshot(client: KelpieClient, pool: WorkerPool, container_group_id: str) -> Snapshot:
    now = datetime.now(UTC)
    try:
        numbers = await asyncio.gather(
            *(client.count(status.value, container_group_id) for status in JobStatus)
        )
        running = await client.jobs(container_group_id, JobStatus.RUNNING.value)
    except ApiError as exc:
        return Snapshot(pool.views(), {}, [], now, api_error=str(exc))
    return Snapshot(pool.views(), dict(zip(JobStatus, numbers, strict=True)), running, now)


def _seconds(value: float) -> str:
    return f"{value:.0f}s" if value < 120 else f"{value / 60:.0f}m"


def render(state: Snapshot, header: str) -> RenderableType:
    holders = {job.machine_id: job for job in state.running if job.machine_id}
    workers = Table(title="Workers", expand=True)
    for column in ("slot", "state", "machine", "pid", "up", "restarts", "last exit", "job"):
        workers.add_column(column)
    for view in state.workers:
        job = holders.get(view.machine_id) if view.machine_id else None
        state_text = Text(view.state.value, style=STATE_STYLES[view.state])
        if view.retiring:
            state_text.append(f" (+{view.retiring} stopping)", style="dim")
        workers.add_row(
            str(view.slot),
            state_text,
            view.machine_id or "-",
            str(view.pid or "-"),
            _seconds(view.uptime_s) if view.machine_id else "-",
            str(view.restarts),
            view.last_exit,
            job.id[:8] if job else "-",
        )
    queue = Text("Queue: ")
    if state.api_error:
        queue.append(f"API unreachable: {state.api_error}", style="red")
    for status, count in state.counts.items():
        queue.append(f"{status.value} {count}  ", style="bold" if count else "dim")
    jobs = Table(title="Running jobs", expand=True)
    for column in ("job", "machine", "running for", "last heartbeat"):
        jobs.add_column(column)
    for job in state.running:
        since = (state.now - job.started).total_seconds() if job.started else 0.0
        beat = (state.now - job.heartbeat).total_seconds() if job.heartbeat else None
        jobs.add_row(
            job.id[:8],
            job.machine_id or "-",
            _seconds(since),
            "-" if beat is None else f"{beat:.1f}s ago",
        )
    return Group(Text(header), workers, queue, jobs)
