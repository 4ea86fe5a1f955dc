"""A job's life over HTTP: taking, heartbeats, fencing, failures, release, cancel, purge, events."""

import asyncio
import time
from collections import Counter

import httpx

from tests.api.helpers import TIMESTAMP, assert_error, job_body, new_group, report, submit, take
from tests.support.servers import ApiServer, User


def _kinds(client: httpx.Client, job_id: str) -> list[str]:
    response = client.get(f"/jobs/{job_id}/events")
    assert response.status_code == 200, response.text
    return [event["kind"] for event in response.json()["events"]]


def test_a_job_runs_to_completion(client: httpx.Client) -> None:
    group = new_group()
    job = submit(client, group)

    taken = take(client, group, "m1")
    assert taken is not None
    assert taken["id"] == job["id"]
    assert (taken["status"], taken["machine_id"]) == ("running", "m1")
    assert TIMESTAMP.match(taken["started"])
    assert TIMESTAMP.match(taken["heartbeat"])
    assert take(client, group, "m2") is None

    beat = report(client, job["id"], "heartbeat", "m1", group)
    assert beat.status_code == 200, beat.text
    assert beat.json() == {"status": "running"}

    done = report(client, job["id"], "completed", "m1", group)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert TIMESTAMP.match(done.json()["completed"])
    assert done.json()["num_heartbeats"] >= 1

    assert_error(client.delete(f"/jobs/{job['id']}"), 409)
    assert_error(report(client, job["id"], "completed", "m1", group), 409)
    assert_error(report(client, job["id"], "failed", "m1", group), 409)
    assert client.get(f"/jobs/{job['id']}").json()["status"] == "completed"
    assert _kinds(client, job["id"]) == ["submitted", "taken", "completed"]


def test_work_is_only_for_the_asked_group(client: httpx.Client) -> None:
    group = new_group()
    submit(client, group)
    assert take(client, new_group(), "m1") is None
    assert take(client, group, "m1") is not None


def test_work_is_handed_out_oldest_first(client: httpx.Client) -> None:
    group = new_group()
    ids = [submit(client, group)["id"] for _ in range(3)]
    taken = [take(client, group, f"m{n}") for n in range(3)]
    assert [job["id"] for job in taken if job] == ids


def test_a_stale_holder_is_fenced_off_after_a_takeover(client: httpx.Client) -> None:
    group = new_group()
    job = submit(client, group, heartbeat_interval=1)
    assert take(client, group, "machine-a") is not None
    assert take(client, group, "machine-b") is None

    time.sleep(2.3)
    taken = take(client, group, "machine-b")
    assert taken is not None
    assert (taken["id"], taken["machine_id"]) == (job["id"], "machine-b")

    assert report(client, job["id"], "heartbeat", "machine-a", group).json() == {
        "status": "canceled"
    }
    assert_error(report(client, job["id"], "completed", "machine-a", group), 409)
    assert_error(report(client, job["id"], "failed", "machine-a", group), 409)
    assert_error(report(client, job["id"], "release", "machine-a", group), 409)

    now = client.get(f"/jobs/{job['id']}").json()
    assert (now["status"], now["machine_id"], now["num_failures"]) == ("running", "machine-b", 0)
    assert report(client, job["id"], "heartbeat", "machine-b", group).json() == {
        "status": "running"
    }
    assert report(client, job["id"], "completed", "machine-b", group).status_code == 200
    assert _kinds(client, job["id"]) == ["submitted", "taken", "taken_over", "completed"]


def test_a_failed_attempt_frees_the_job_for_another_machine_at_once(client: httpx.Client) -> None:
    group = new_group()
    job = submit(client, group, max_failures=2)
    assert take(client, group, "m1") is not None

    failed = report(client, job["id"], "failed", "m1", group)
    assert failed.status_code == 202, failed.text
    assert (failed.json()["status"], failed.json()["num_failures"]) == ("running", 1)

    assert take(client, group, "m1") is None, "a machine is banned from a job it failed"
    again = take(client, group, "m2")
    assert again is not None
    assert again["id"] == job["id"]

    last = report(client, job["id"], "failed", "m2", group)
    assert last.status_code == 202, last.text
    assert (last.json()["status"], last.json()["num_failures"]) == ("failed", 2)
    assert TIMESTAMP.match(last.json()["failed"])
    assert take(client, group, "m3") is None
    assert_error(client.delete(f"/jobs/{job['id']}"), 409)
    assert _kinds(client, job["id"]) == ["submitted", "taken", "attempt_failed", "taken", "failed"]


def test_max_failures_of_one_ends_the_job_at_the_first_failure(client: httpx.Client) -> None:
    group = new_group()
    job = submit(client, group, max_failures=1)
    take(client, group, "m1")
    assert report(client, job["id"], "failed", "m1", group).json()["status"] == "failed"


def test_a_released_job_goes_to_the_next_machine_at_once(client: httpx.Client) -> None:
    group = new_group()
    job = submit(client, group)
    take(client, group, "m1")

    released = report(client, job["id"], "release", "m1", group)
    assert released.status_code == 202, released.text
    assert (released.json()["status"], released.json()["num_failures"]) == ("running", 0)
    assert report(client, job["id"], "heartbeat", "m1", group).json() == {"status": "canceled"}

    again = take(client, group, "m2")
    assert again is not None
    assert again["id"] == job["id"]
    assert _kinds(client, job["id"]) == ["submitted", "taken", "released", "taken"]


def test_cancel_pending_and_running_jobs(client: httpx.Client) -> None:
    group = new_group()
    pending = submit(client, group)
    running = submit(client, group)
    taken = take(client, group, "m1")
    assert taken is not None
    assert taken["id"] == pending["id"]

    for job_id in (running["id"], pending["id"]):
        response = client.delete(f"/jobs/{job_id}")
        assert response.status_code == 202, response.text
        assert response.json() == {"message": "Job canceled"}
    again = client.delete(f"/jobs/{pending['id']}")
    assert again.status_code == 202, "a repeated cancel is a no-op"

    assert report(client, pending["id"], "heartbeat", "m1", group).json() == {"status": "canceled"}
    assert_error(report(client, pending["id"], "completed", "m1", group), 409)
    assert take(client, group, "m2") is None
    job = client.get(f"/jobs/{pending['id']}").json()
    assert job["status"] == "canceled"
    assert TIMESTAMP.match(job["canceled"])
    assert _kinds(client, pending["id"]) == ["submitted", "taken", "canceled"]


def test_purge_cancels_the_groups_unended_jobs_and_keeps_them(client: httpx.Client) -> None:
    group, other = new_group(), new_group()
    ended = submit(client, group)
    take(client, group, "m0")
    report(client, ended["id"], "completed", "m0", group)
    running = submit(client, group)
    take(client, group, "m1")
    for _ in range(3):
        submit(client, group)
    untouched = submit(client, other)

    response = client.delete(f"/jobs/container-groups/{group}")
    assert response.status_code == 200, response.text
    assert response.json() == {"count": 4}

    remaining = client.get("/jobs", params={"container_group_id": group}).json()
    statuses = sorted(job["status"] for job in remaining["jobs"])
    assert statuses == ["canceled"] * 4 + ["completed"], "canceled rows stay for the record"
    assert report(client, running["id"], "heartbeat", "m1", group).json() == {"status": "canceled"}
    assert client.get(f"/jobs/{untouched['id']}").json()["status"] == "pending"
    assert client.delete(f"/jobs/container-groups/{group}").json() == {"count": 0}


def test_events_are_served_oldest_first_with_their_machine(client: httpx.Client) -> None:
    group = new_group()
    job = submit(client, group)
    take(client, group, "m1")
    report(client, job["id"], "release", "m1", group)
    take(client, group, "m2")
    report(client, job["id"], "completed", "m2", group)

    events = client.get(f"/jobs/{job['id']}/events").json()["events"]
    assert [(e["kind"], e["machine_id"]) for e in events] == [
        ("submitted", None),
        ("taken", "m1"),
        ("released", "m1"),
        ("taken", "m2"),
        ("completed", "m2"),
    ]
    assert all(TIMESTAMP.match(event["at"]) for event in events)
    assert [event["at"] for event in events] == sorted(event["at"] for event in events)


def test_another_users_job_does_not_exist_for_you(server: ApiServer, client: httpx.Client) -> None:
    group = new_group()
    job = submit(client, group)
    with server.client(server.new_user()) as stranger:
        assert take(stranger, group, "m-stranger") is None
        assert_error(stranger.get(f"/jobs/{job['id']}"), 404)
        assert_error(stranger.get(f"/jobs/{job['id']}/events"), 404)
        assert_error(stranger.delete(f"/jobs/{job['id']}"), 404)
        assert stranger.get("/jobs").json() == {"_count": 0, "jobs": []}
        assert stranger.delete(f"/jobs/container-groups/{group}").json() == {"count": 0}

        assert take(client, group, "m1") is not None
        for what in ("heartbeat", "completed", "failed", "release"):
            assert_error(report(stranger, job["id"], what, "m1", group), 404)
    assert client.get(f"/jobs/{job['id']}").json()["status"] == "running"
    assert _kinds(client, job["id"]) == ["submitted", "taken"]


def test_worker_reports_are_validated(client: httpx.Client) -> None:
    group = new_group()
    job = submit(client, group)
    path = f"/jobs/{job['id']}/heartbeat"
    assert_error(client.post(path, json={"container_group_id": group}), 422, "machine_id")
    assert_error(client.post(path, json={"machine_id": "", "container_group_id": group}), 422)
    assert_error(client.get("/work", params={"container_group_id": group}), 422, "machine_id")
    params = {"machine_id": "m", "container_group_id": group}
    assert_error(client.get("/work", params={**params, "wait": 61}), 422, "wait")
    assert_error(client.get("/work", params={**params, "wait": -1}), 422, "wait")


CLAIMERS = 50
JOBS = 500


async def _claim_until_empty(api: httpx.AsyncClient, group: str, machine: str) -> list[str]:
    taken: list[str] = []
    params = {"machine_id": machine, "container_group_id": group}
    while True:
        response = await api.get("/work", params=params)
        assert response.status_code == 200, response.text
        jobs = response.json()
        if not jobs:
            return taken
        assert jobs[0]["machine_id"] == machine
        taken.append(jobs[0]["id"])


async def _race(server: ApiServer, user: User, group: str) -> dict[str, list[str]]:
    # idle connections are dropped well before the server's 5 s keep-alive timeout, so a
    # request never goes out on a connection the server is closing at that moment
    limits = httpx.Limits(max_connections=CLAIMERS, keepalive_expiry=1)
    async with httpx.AsyncClient(
        base_url=server.url, headers=user.headers, limits=limits, timeout=60
    ) as api:
        machines = [f"machine-{n}" for n in range(CLAIMERS)]
        results = await asyncio.gather(*(_claim_until_empty(api, group, m) for m in machines))
    return dict(zip(machines, results, strict=True))


def test_50_claimers_take_each_of_500_jobs_exactly_once(
    server: ApiServer, client: httpx.Client, user: User
) -> None:
    group = new_group()
    submitted = client.post("/jobs/batch", json=[job_body(group)] * JOBS)
    assert submitted.status_code == 202, submitted.text
    ids = {job["id"] for job in submitted.json()}

    by_machine = asyncio.run(_race(server, user, group))

    taken = Counter(job_id for jobs in by_machine.values() for job_id in jobs)
    assert set(taken) == ids
    assert max(taken.values()) == 1, "a job was handed out twice"
    assert sum(1 for jobs in by_machine.values() if jobs) > 1, "the claimers did not overlap"

    holder = {job_id: machine for machine, jobs in by_machine.items() for job_id in jobs}
    listed = client.get("/jobs", params={"container_group_id": group, "page_size": 1000}).json()
    assert listed["_count"] == JOBS
    for job in listed["jobs"]:
        assert (job["status"], job["machine_id"]) == ("running", holder[job["id"]])
