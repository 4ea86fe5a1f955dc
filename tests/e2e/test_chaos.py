"""The acceptance test of the whole platform: ``kelpie demo --chaos`` on S3, asserted on.

Five series-sum jobs on three local workers, with moto's S3 server as storage, while at least
twenty random interruptions (hard kills of a worker's whole process tree and graceful
SIGTERMs, mixed) hit the run. It runs the demo's own code (``run_demo``), so what is asserted
here is what ``kelpie demo --chaos`` shows.
"""

import asyncio
import os
import random
import time
from pathlib import Path

import pytest

from kelpie.platform.chaos import ChaosSettings
from kelpie.platform.demo import DemoResult, DemoSettings, run_demo
from kelpie.report import InterruptionKind
from kelpie.storage import storage_from_env
from tests.support.servers import S3Server

HEARTBEAT_INTERVAL = 2
STATE_SAVING_INTERVAL = 2.0
MIN_STRIKES = 20
MAX_STRIKES = 30


def checkpoint_upload_s(environ: dict[str, str], folder: Path) -> float:
    """How long one checkpoint (the workload's state and log) takes to reach this S3."""
    folder.mkdir()
    checkpoint = folder / "state.json"
    checkpoint.write_text('{"step": 123, "partial_sum": 45678}')

    async def upload() -> float:
        storage = storage_from_env(environ)
        try:
            await storage.upload(checkpoint, "transcripts", "probe/state.json")
            started = time.monotonic()
            await storage.upload(checkpoint, "transcripts", "probe/state.json")
            return time.monotonic() - started
        finally:
            storage.close()

    return asyncio.run(upload())


@pytest.fixture(scope="module")
def storm(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, int]:
    seed = random.randrange(1_000_000)
    settings = DemoSettings(
        folder=tmp_path_factory.mktemp("platform"),
        jobs=5,
        workers=3,
        steps=700,
        step_time_s=0.1,
        save_interval_s=STATE_SAVING_INTERVAL,
        heartbeat_interval=HEARTBEAT_INTERVAL,
        chaos=ChaosSettings(
            min_interval_s=0.2,
            max_interval_s=0.8,
            min_hold_s=2.0,
            max_strikes=MAX_STRIKES,
            seed=seed,
        ),
        timeout_s=150,
        environ={**os.environ, **s3.env},
    )
    return asyncio.run(run_demo(settings)), seed


@pytest.mark.timeout(280)
def test_every_job_completes_exactly_once_through_the_storm(storm: tuple[DemoResult, int]) -> None:
    result, seed = storm
    hard = [strike for strike in result.strikes if strike.kind is InterruptionKind.HARD]
    graceful = [strike for strike in result.strikes if strike.kind is InterruptionKind.GRACEFUL]

    assert len(result.strikes) >= MIN_STRIKES, f"seed {seed}: only {len(result.strikes)} strikes"
    assert min(len(hard), len(graceful)) > 0, (
        f"seed {seed}: {len(hard)} hard, {len(graceful)} graceful"
    )
    # completed, exact sums, one holder at a time (takeovers only from dead machines), resumes
    assert result.problems == [], f"seed {seed}: {result.problems}"
    assert all(report.status == "completed" for report in result.reports)


def test_every_interruption_in_the_events_lost_a_machine_the_storm_struck(
    storm: tuple[DemoResult, int],
) -> None:
    """No machine the storm left alone lost a job (no takeover from a slow but live worker).

    Machines, not (kind, machine) pairs: a worker struck gracefully while it was between jobs
    may still get a job from its last long poll as it exits, and lose it by a takeover.
    """
    result, seed = storm
    struck = {strike.machine_id for strike in result.strikes}

    lost_by = [each.machine_id for report in result.reports for each in report.interruptions]

    assert lost_by, f"seed {seed}: no interruption reached a job"
    assert set(lost_by) <= struck, f"seed {seed}: machines nobody struck: {set(lost_by) - struck}"


def test_time_lost_per_interruption_is_bounded(
    storm: tuple[DemoResult, int], s3: S3Server, tmp_path: Path
) -> None:
    result, seed = storm
    hard_bound = 2 * HEARTBEAT_INTERVAL + STATE_SAVING_INTERVAL
    graceful_bound = 1.0 + checkpoint_upload_s(s3.env, tmp_path / "probe")

    for report in result.reports:
        for each in report.interruptions:
            lost = each.lost.total_seconds()
            bound = hard_bound if each.kind is InterruptionKind.HARD else graceful_bound
            assert lost <= bound, (
                f"seed {seed}: job {report.job_id}, {each.kind.value} interruption of "
                f"{each.machine_id} at {each.at} lost {lost:.3f} s > {bound:.3f} s"
            )
