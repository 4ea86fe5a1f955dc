"""Long polls: they answer within 0.2 s of a submit, across processes, and at once on SIGTERM."""

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from tests.api.helpers import job_body, new_group, report, submit, take
from tests.support import databases
from tests.support.servers import ApiServer, User, api_server

LATENCY_BOUND = 0.2
SETTLE = 0.5
"""How long a test lets its long polls reach the server and start waiting."""


def _client(url: str, user: User, connections: int = 10) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=connections, max_keepalive_connections=connections, keepalive_expiry=1
    )
    return httpx.AsyncClient(base_url=url, headers=user.headers, timeout=90, limits=limits)


async def _poll(url: str, user: User, group: str, machine: str, wait: float) -> tuple[Any, float]:
    """The answer of one long poll and the moment (``perf_counter``) it arrived."""
    async with _client(url, user) as api:
        return await _poll_with(api, group, machine, wait)


async def _poll_with(
    api: httpx.AsyncClient, group: str, machine: str, wait: float
) -> tuple[Any, float]:
    params = {"machine_id": machine, "container_group_id": group, "wait": wait}
    response = await api.get("/work", params=params)
    arrived = time.perf_counter()
    assert response.status_code == 200, response.text
    return response.json(), arrived


async def _submit_during_poll(
    poll_url: str, submit_url: str, user: User, wait: float = 10
) -> tuple[Any, dict[str, Any], float]:
    """Starts a long poll on ``poll_url``, submits on ``submit_url``, returns the latency."""
    group = new_group()
    poll = asyncio.create_task(_poll(poll_url, user, group, "waiting-machine", wait))
    await asyncio.sleep(SETTLE)
    assert not poll.done()
    async with httpx.AsyncClient(base_url=submit_url, headers=user.headers) as api:
        response = await api.post("/jobs", json=job_body(group))
        submitted_at = time.perf_counter()
    assert response.status_code == 202, response.text
    jobs, arrived = await poll
    return jobs, response.json(), arrived - submitted_at


def test_a_long_poll_answers_within_0_2_s_of_a_submit(server: ApiServer, user: User) -> None:
    jobs, job, latency = asyncio.run(_submit_during_poll(server.url, server.url, user))

    assert [taken["id"] for taken in jobs] == [job["id"]]
    assert jobs[0]["machine_id"] == "waiting-machine"
    assert latency < LATENCY_BOUND, f"long poll answered {latency:.3f} s after the submit"


def test_a_long_poll_without_work_answers_empty_when_time_is_up(
    server: ApiServer, user: User
) -> None:
    started = time.perf_counter()
    jobs, arrived = asyncio.run(_poll(server.url, user, new_group(), "m", wait=1))
    assert jobs == []
    assert 0.9 <= arrived - started < 2.5


async def _many_waiters(url: str, user: User, waiters: int) -> list[Any]:
    group = new_group()
    async with _client(url, user, connections=waiters + 1) as api:
        polls = [
            asyncio.create_task(_poll_with(api, group, f"machine-{n}", wait=10))
            for n in range(waiters)
        ]
        await asyncio.sleep(SETTLE)
        first = (await api.post("/jobs", json=job_body(group))).json()
        await asyncio.sleep(SETTLE)
        assert sum(poll.done() for poll in polls) == 1, "one job wakes exactly one taker"
        rest = await api.post("/jobs/batch", json=[job_body(group)] * (waiters - 1))
        assert rest.status_code == 202, rest.text
        answers = await asyncio.gather(*polls)
    taken = [jobs[0]["id"] for jobs, _ in answers]
    assert first["id"] in taken
    return taken


def test_waiters_that_lose_the_race_keep_waiting(server: ApiServer, user: User) -> None:
    taken = asyncio.run(_many_waiters(server.url, user, waiters=20))
    assert len(taken) == len(set(taken)) == 20


def test_a_long_poll_takes_over_a_job_whose_holder_went_silent(
    server: ApiServer, user: User, client: httpx.Client
) -> None:
    group = new_group()
    job = submit(client, group, heartbeat_interval=1)
    assert take(client, group, "silent") is not None

    started = time.perf_counter()
    taken = take(client, group, "rescuer", wait=10)
    assert taken is not None
    assert taken["id"] == job["id"]
    assert time.perf_counter() - started < 4
    assert report(client, job["id"], "heartbeat", "silent", group).json()["status"] == "canceled"


def test_a_long_poll_is_woken_by_a_release(
    server: ApiServer, user: User, client: httpx.Client
) -> None:
    group = new_group()
    job = submit(client, group)
    take(client, group, "leaving")

    async def scenario() -> tuple[Any, float]:
        poll = asyncio.create_task(_poll(server.url, user, group, "next", wait=10))
        await asyncio.sleep(SETTLE)
        released = report(client, job["id"], "release", "leaving", group)
        assert released.status_code == 202, released.text
        released_at = time.perf_counter()
        jobs, arrived = await poll
        return jobs, arrived - released_at

    jobs, latency = asyncio.run(scenario())
    assert jobs[0]["id"] == job["id"]
    assert latency < LATENCY_BOUND


def test_a_long_poll_on_another_process_is_woken_too(
    server: ApiServer, user: User, tmp_path: Path
) -> None:
    """On PostgreSQL by NOTIFY within the bound; on SQLite by the shared database check."""
    postgres = server.database_url.startswith("postgresql")
    bound = LATENCY_BOUND if postgres else 0.25 + LATENCY_BOUND
    with api_server(server.database_url, tmp_path) as other:
        jobs, job, latency = asyncio.run(_submit_during_poll(other.url, server.url, user))
    assert [taken["id"] for taken in jobs] == [job["id"]]
    assert latency < bound, f"the other process answered {latency:.3f} s after the submit"


def test_a_job_claimed_for_a_poller_that_left_is_released_at_once(
    server: ApiServer, user: User
) -> None:
    """A worker stopped while its long poll waited must not hold the job it was woken for."""
    group = new_group()
    with server.client(user) as api:
        params = {"machine_id": "gone", "container_group_id": group, "wait": 20}
        with pytest.raises(httpx.ReadTimeout):
            api.get("/work", params=params, timeout=httpx.Timeout(10, read=SETTLE))
        job = submit(api, group)
        deadline = time.monotonic() + 5
        kinds: list[str] = []
        while "released" not in kinds and time.monotonic() < deadline:
            time.sleep(0.1)
            kinds = [
                event["kind"] for event in api.get(f"/jobs/{job['id']}/events").json()["events"]
            ]
        assert kinds == ["submitted", "taken", "released"]
        taken = take(api, group, "next-machine")
    assert taken is not None
    assert taken["id"] == job["id"]


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads CPU time from /proc")
def test_idle_long_polls_cost_next_to_nothing(server: ApiServer, user: User) -> None:
    """200 waiting polls: the server's CPU while they wait, and a request beside them."""
    idle, measured = 200, 2.0
    pid = _popen(server).pid

    async def scenario() -> tuple[float, float]:
        groups = [new_group() for _ in range(4)]
        async with _client(server.url, user, connections=idle) as api:
            polls = [
                asyncio.create_task(_poll_with(api, groups[n % 4], f"idle-{n}", wait=6))
                for n in range(idle)
            ]
            await asyncio.sleep(3)
            assert not any(poll.done() for poll in polls)
            before = _cpu_seconds(pid)
            await asyncio.sleep(measured)
            cpu = _cpu_seconds(pid) - before
            group = new_group()
            busy = {"machine_id": "busy", "container_group_id": group}
            async with _client(server.url, user) as other:
                started = time.perf_counter()
                await other.post("/jobs", json=job_body(group))
                taken = await other.get("/work", params=busy)
                elapsed = time.perf_counter() - started
            assert len(taken.json()) == 1
            answers = await asyncio.gather(*polls)
        assert all(jobs == [] for jobs, _ in answers)
        return cpu, elapsed

    cpu, elapsed = asyncio.run(scenario())
    # One check per watched group, not per waiter: polling for each of the 200 waiters every
    # 0.25 s would keep a core busy. Half a core leaves room for a machine loaded by others.
    assert cpu / measured < 0.5, f"the server used {cpu / measured:.0%} of a core while idle"
    assert elapsed < 1.0


def _popen(server: ApiServer) -> "subprocess.Popen[bytes]":
    return cast("subprocess.Popen[bytes]", server.process)


def test_sigterm_answers_waiting_long_polls_and_exits_cleanly(
    server: ApiServer, user: User, tmp_path: Path
) -> None:
    with api_server(server.database_url, tmp_path) as stopping:

        async def scenario() -> tuple[Any, float]:
            poll = asyncio.create_task(_poll(stopping.url, user, new_group(), "m", wait=30))
            await asyncio.sleep(SETTLE)
            _popen(stopping).send_signal(signal.SIGTERM)
            signalled = time.perf_counter()
            jobs, arrived = await poll
            return jobs, arrived - signalled

        jobs, latency = asyncio.run(scenario())
        assert jobs == []
        assert latency < 1.0
        assert _popen(stopping).wait(timeout=10) == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(stopping.url + "/healthz", timeout=1)


@pytest.mark.postgres
def test_healthz_is_503_when_the_database_is_gone(tmp_path: Path) -> None:
    url = databases.create_postgres_database()
    try:
        with api_server(url, tmp_path) as doomed:
            assert httpx.get(doomed.url + "/healthz").status_code == 200
            databases.drop_postgres_database(url)
            response = httpx.get(doomed.url + "/healthz", timeout=30)
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "unavailable"
    finally:
        databases.drop_postgres_database(url)
