"""The API client against a scripted transport: what is retried, what ends the lease."""

import asyncio
import json

import httpx
import pytest

from kelpie.worker.errors import ApiRejected, ApiUnavailable, LeaseLost
from tests.worker.scripted import JOB, api, scripted


def test_take_work_long_polls_and_reads_jobs_leniently() -> None:
    handler, seen = scripted(
        httpx.ConnectError("refused"), httpx.Response(503), httpx.Response(200, json=[JOB])
    )
    job, _ = asyncio.run(api(handler).take_work(wait_s=20))
    assert job is not None
    assert job.id == "j1"
    assert len(seen) == 3
    assert seen[-1].url.params["wait"] == "20"
    assert seen[-1].url.params["machine_id"] == "m1"
    assert seen[-1].url.params["container_group_id"] == "g"
    assert seen[-1].headers["X-Kelpie-Key"] == "secret"


def test_take_work_gives_up_after_max_retries() -> None:
    handler, seen = scripted(httpx.Response(500))
    with pytest.raises(ApiUnavailable):
        asyncio.run(api(handler, max_retries=2).take_work(wait_s=0))
    assert len(seen) == 3
    assert "wait" not in seen[0].url.params


def test_no_work() -> None:
    handler, _ = scripted(httpx.Response(200, json=[]))
    job, _ = asyncio.run(api(handler).take_work(wait_s=0))
    assert job is None


def test_a_bad_key_is_not_retried() -> None:
    handler, seen = scripted(httpx.Response(401, json={"error": "unauthorized", "message": "no"}))
    with pytest.raises(ApiRejected, match="401"):
        asyncio.run(api(handler).take_work(wait_s=0))
    assert len(seen) == 1


def test_final_reports_are_retried_past_max_retries_until_delivered() -> None:
    failures = [httpx.Response(502)] * 10
    handler, seen = scripted(httpx.ReadTimeout("slow"), *failures, httpx.Response(200, json=JOB))
    asyncio.run(api(handler, max_retries=1).report("j1", "completed"))
    assert len(seen) == 12
    assert seen[-1].url.path == "/jobs/j1/completed"
    assert json.loads(seen[-1].content) == {"machine_id": "m1", "container_group_id": "g"}


@pytest.mark.parametrize("status", [404, 409])
def test_a_report_refused_with_404_or_409_means_the_lease_is_gone(status: int) -> None:
    handler, seen = scripted(httpx.Response(500), httpx.Response(status, json={"error": "x"}))
    with pytest.raises(LeaseLost):
        asyncio.run(api(handler).report("j1", "release"))
    assert seen[-1].url.path == "/jobs/j1/release"


@pytest.mark.parametrize("status", ["canceled", "completed", "failed"])
def test_a_heartbeat_answered_with_an_end_means_the_lease_is_gone(status: str) -> None:
    handler, _ = scripted(httpx.Response(200, json={"status": status}))
    with pytest.raises(LeaseLost):
        asyncio.run(api(handler).heartbeat("j1", timeout_s=1))


def test_a_heartbeat_is_tried_once() -> None:
    handler, seen = scripted(httpx.Response(503), httpx.Response(200, json={"status": "running"}))
    with pytest.raises(ApiUnavailable):
        asyncio.run(api(handler).heartbeat("j1", timeout_s=1))
    asyncio.run(api(handler).heartbeat("j1", timeout_s=1))
    assert len(seen) == 2
