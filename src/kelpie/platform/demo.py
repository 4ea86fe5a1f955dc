"""The demo: the seed's workload on the local platform, optionally under a storm of interruptions.

One input per job goes to storage under ``demoapp1/job<i>/input/`` in bucket ``transcripts``;
the jobs are submitted with the seed's sync layout; the platform runs them while ``Chaos``
strikes; then every output is checked against the exact sum, the events against the one
holder rule, the state logs for the resumes, and the report is computed. ``kelpie demo`` and
the end-to-end test both run ``run_demo``.
"""

import asyncio
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from kelpie.client import KelpieClient
from kelpie.client.histories import History, fetch_histories
from kelpie.jobs import TERMINAL, Job
from kelpie.platform.chaos import Chaos, ChaosSettings, Strike
from kelpie.platform.checks import lease_problems, output_problems, resume_problems
from kelpie.platform.local import LocalPlatform, PlatformError
from kelpie.platform.settings import PlatformSettings
from kelpie.platform.status import Snapshot, snapshot
from kelpie.report import JobReport, job_report
from kelpie.storage import S3Settings, Storage, StorageError, storage_from_env

BUCKET = "transcripts"
APP = "demoapp1"
WORKLOAD = "kelpie.examples.series_sum"
POLL_S = 0.5


@dataclass(frozen=True, kw_only=True)
class DemoSettings:
    folder: Path = Path(".kelpie-demo")
    jobs: int = 5
    workers: int = 3
    steps: int = 500
    """Integers the longest job sums (see ``demo_jobs``)."""
    step_time_s: float = 0.1
    save_interval_s: float = 1.0
    heartbeat_interval: int = 2
    chaos: ChaosSettings | None = None
    timeout_s: float = 600.0
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    def platform(self) -> PlatformSettings:
        return PlatformSettings(
            folder=self.folder,
            workers=self.workers,
            port=0,
            container_group_id=f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}",
            grace_period_s=5.0,
            environ=self.environ,
        )


@dataclass(frozen=True)
class DemoJob:
    index: int
    start: int
    end: int
    id: str = ""

    @property
    def prefix(self) -> str:
        return f"{APP}/job{self.index}/"

    @property
    def name(self) -> str:
        return f"job{self.index}"


@dataclass
class DemoResult:
    jobs: list[DemoJob]
    histories: list[History]
    reports: list[JobReport]
    strikes: list[Strike]
    outputs: dict[str, str | None]
    logs: dict[str, str | None]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def demo_jobs(count: int, steps: int) -> list[DemoJob]:
    """Job ``i`` sums ``steps * (i + 1) / count`` integers from ``1000 * i + 1``.

    Ranges differ, so a job that read another's state would show in its sum; lengths grow,
    so the first jobs end early, the queue drains and the chaos (which waits for that) has
    the longest jobs to strike.
    """
    return [
        DemoJob(index, 1000 * index + 1, 1000 * index + max(1, steps * (index + 1) // count))
        for index in range(count)
    ]


def workload_command() -> dict[str, Any]:
    """The workload, run by this Python (so it is found wherever Kelpie is installed) and at a
    lower priority where ``nice`` exists: its busy work must not starve the platform's
    heartbeats on a small machine."""
    python = [sys.executable, "-m", WORKLOAD]
    nice = shutil.which("nice")
    command = [nice, "-n", "10", *python] if nice else python
    return {"command": command[0], "arguments": command[1:]}


def submission(job: DemoJob, settings: DemoSettings, container_group_id: str) -> dict[str, Any]:
    """The seed's job: its sync layout, relative paths (they land in the worker's folder)."""

    def folder(name: str, direction: str) -> dict[str, str]:
        return {
            "bucket": BUCKET,
            "prefix": f"{job.prefix}{name}/",
            "local_path": f"data/{name}/",
            "direction": direction,
        }

    return {
        **workload_command(),
        "environment": {
            "STEP_RUNNING_TIME": str(settings.step_time_s),
            "STATE_SAVING_INTERVAL": str(settings.save_interval_s),
        },
        "max_failures": 3,
        "heartbeat_interval": settings.heartbeat_interval,
        "container_group_id": container_group_id,
        "webhook": None,
        "compression": False,
        "sync": {
            "before": [folder("input", "download"), folder("state", "download")],
            "during": [folder("state", "upload")],
            "after": [folder("output", "upload")],
        },
    }


def ensure_bucket(platform: PlatformSettings) -> None:
    """S3 needs the bucket to exist (a local folder is made on the first upload)."""
    if not platform.uses_s3:
        return
    s3 = S3Settings.from_env(platform.environ).client()
    try:
        s3.head_bucket(Bucket=BUCKET)
    except ClientError:
        try:
            s3.create_bucket(Bucket=BUCKET)
        except (ClientError, BotoCoreError) as exc:
            raise PlatformError(f"cannot create the bucket {BUCKET!r}: {exc}") from exc
    except BotoCoreError as exc:
        raise PlatformError(f"cannot reach S3: {exc}") from exc


async def upload_inputs(storage: Storage, jobs: list[DemoJob], scratch: Path) -> None:
    """Fresh inputs, and no state or output left by an earlier run under the same prefixes."""
    for job in jobs:
        for stale in await storage.list(BUCKET, job.prefix):
            await storage.delete(BUCKET, stale.key)
        source = scratch / f"{job.name}.txt"
        source.write_text(f"{job.start}\n{job.end}\n")
        await storage.upload(source, BUCKET, f"{job.prefix}input/input.txt")


async def read_object(storage: Storage, key: str, scratch: Path) -> str | None:
    destination = scratch / key.replace("/", "_")
    try:
        if await storage.head(BUCKET, key) is None:
            return None
        await storage.download(BUCKET, key, destination)
    except StorageError:
        return None
    return destination.read_text()


async def wait_until_done(
    client: KelpieClient,
    job_ids: list[str],
    timeout_s: float,
    tick: Callable[[], Any] | None,
) -> list[Job]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        jobs = await asyncio.gather(*(client.job(job_id) for job_id in job_ids))
        if all(job.status in TERMINAL for job in jobs):
            return list(jobs)
        if asyncio.get_running_loop().time() > deadline:
            return list(jobs)
        if tick is not None:
            await tick()
        await asyncio.sleep(POLL_S)


Observer = Callable[[Snapshot, Chaos | None], None]
"""Called about twice a second while the jobs run, e.g. to draw the status."""


async def run_demo(settings: DemoSettings, observe: Observer | None = None) -> DemoResult:
    platform_settings = settings.platform()
    jobs = demo_jobs(settings.jobs, settings.steps)
    ensure_bucket(platform_settings)
    storage = storage_from_env(platform_settings.storage_environment())
    with tempfile.TemporaryDirectory(prefix="kelpie-demo-") as scratch_name:
        scratch = Path(scratch_name)
        try:
            await upload_inputs(storage, jobs, scratch)
            async with LocalPlatform(platform_settings) as platform:
                group = platform_settings.container_group_id
                # one by one, so that they are created (and so taken) in order
                jobs = [
                    DemoJob(
                        job.index,
                        job.start,
                        job.end,
                        (await platform.client.submit(submission(job, settings, group))).id,
                    )
                    for job in jobs
                ]
                chaos = (
                    Chaos(platform.client, platform.pool, group, settings.chaos)
                    if settings.chaos
                    else None
                )
                done = asyncio.Event()
                striking = asyncio.create_task(chaos.run(done)) if chaos else None

                async def tick() -> None:
                    if observe is not None:
                        observe(await snapshot(platform.client, platform.pool, group), chaos)

                try:
                    ended = await wait_until_done(
                        platform.client, [job.id for job in jobs], settings.timeout_s, tick
                    )
                finally:
                    done.set()
                    if striking is not None:
                        await striking
                histories = await fetch_histories(platform.client, [job.id for job in jobs])
            gone = dict(platform.pool.ended)
            outputs = {
                job.id: await read_object(storage, f"{job.prefix}output/sum.txt", scratch)
                for job in jobs
            }
            logs = {
                job.id: await read_object(storage, f"{job.prefix}state/progress.log", scratch)
                for job in jobs
            }
        finally:
            storage.close()
    strikes = chaos.strikes if chaos else []
    now = datetime.now(UTC)
    reports = [job_report(history.job, history.events, now) for history in histories]
    problems: list[str] = []
    for job, final, history, report in zip(jobs, ended, histories, reports, strict=True):
        if final.status.value != "completed":
            problems.append(f"{job.name}: ended {final.status.value}, not completed")
        problems += output_problems(job.name, job.start, job.end, outputs[job.id])
        problems += lease_problems(job.name, history.events, settings.heartbeat_interval, gone)
        problems += resume_problems(job.name, len(report.interruptions), logs[job.id])
    return DemoResult(jobs, histories, reports, strikes, outputs, logs, problems)
