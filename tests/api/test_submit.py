"""Submitting and reading jobs: the seed's exact shape, every validation rule, the error shape."""

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.helpers import (
    SEED_RESPONSE_KEYS,
    SEED_SUBMISSION,
    TIMESTAMP,
    assert_error,
    job_body,
    kelpie,
    new_group,
    submit,
)
from tests.support.servers import ApiServer, User

LEGACY = {
    "input_bucket": "in",
    "input_prefix": "jobs/1/in",
    "checkpoint_bucket": "ck",
    "checkpoint_prefix": "jobs/1/ck/",
    "output_bucket": "out",
    "output_prefix": "jobs/1/out",
}


def test_the_seed_body_is_accepted_and_echoed_in_the_seeds_shape(
    client: httpx.Client, user: User
) -> None:
    response = client.post("/jobs", json=SEED_SUBMISSION)

    assert response.status_code == 202, response.text
    job = response.json()
    assert set(job) == SEED_RESPONSE_KEYS
    assert job["status"] == "pending"
    assert job["user_id"] == user.id
    assert TIMESTAMP.match(job["created"])
    assert job["machine_id"] is None
    assert job["webhook"] is None
    assert (job["num_failures"], job["num_heartbeats"]) == (0, 0)
    for field in ("command", "arguments", "environment", "max_failures", "heartbeat_interval"):
        assert job[field] == SEED_SUBMISSION[field]
    assert job["sync"] == SEED_SUBMISSION["sync"]
    assert client.get(f"/jobs/{job['id']}").json() == job


def test_defaults_prefix_normalisation_and_unknown_fields(client: httpx.Client) -> None:
    body = {
        "command": "run",
        "container_group_id": new_group(),
        "sync": {
            "before": [{"bucket": "b", "prefix": "in", "local_path": "/i", "direction": "download"}]
        },
        "something_new": {"ignored": True},
    }
    job = client.post("/jobs", json=body).json()

    assert (job["arguments"], job["environment"]) == ([], {})
    assert (job["max_failures"], job["heartbeat_interval"], job["compression"]) == (3, 30, False)
    assert job["sync"]["before"][0]["prefix"] == "in/"
    assert "something_new" not in job


def test_legacy_storage_fields_are_echoed_without_sync(client: httpx.Client) -> None:
    body = {"command": "run", "container_group_id": new_group(), **LEGACY}
    job = client.post("/jobs", json=body).json()

    assert "sync" not in job
    assert job["input_prefix"] == "jobs/1/in/"
    assert job["checkpoint_prefix"] == "jobs/1/ck/"


def _without(field: str) -> dict[str, Any]:
    body = job_body()
    del body[field]
    return body


def _with_sync(where: str, **config: Any) -> dict[str, Any]:
    base = {"bucket": "b", "prefix": "p/", "local_path": "/data", "direction": "upload"}
    return job_body(sync={where: [{**base, **config}]})


INVALID: list[tuple[str, dict[str, Any], list[str]]] = [
    ("missing command", _without("command"), ["command", "required"]),
    ("missing group", _without("container_group_id"), ["container_group_id", "required"]),
    ("empty command", job_body(command=""), ["command"]),
    ("sync and legacy", job_body(**LEGACY), ["sync", "legacy", "input_bucket"]),
    ("neither form", {"command": "x", "container_group_id": "g"}, ["sync", "legacy"]),
    ("partial legacy", {"command": "x", "container_group_id": "g", "input_bucket": "b"}, ["miss"]),
    ("download during", _with_sync("during", direction="download"), ["sync.during[0].direction"]),
    ("upload before", _with_sync("before", direction="upload"), ["sync.before[0].direction"]),
    ("unknown direction", _with_sync("after", direction="sideways"), ["sync.after[0].direction"]),
    ("heartbeat_interval 0", job_body(heartbeat_interval=0), ["heartbeat_interval", "1"]),
    ("max_failures 0", job_body(max_failures=0), ["max_failures", "1"]),
    ("max_failures text", job_body(max_failures="3"), ["max_failures"]),
    ("numeric argument", job_body(arguments=["a", 2]), ["arguments[1]"]),
    ("numeric env value", job_body(environment={"A": 1}), ["environment.A"]),
    ("ftp webhook", job_body(webhook="ftp://example.com/hook"), ["webhook", "http"]),
    ("not a url webhook", job_body(webhook="not a url"), ["webhook"]),
    ("empty local_path", _with_sync("after", local_path=""), ["sync.after[0].local_path"]),
    ("bad pattern", _with_sync("after", pattern="("), ["pattern"]),
    ("body is a list", [job_body()], ["body"]),  # type: ignore[list-item]
]


@pytest.mark.parametrize(
    ("body", "mentions"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID]
)
def test_each_rule_is_a_422_naming_the_field(
    client: httpx.Client, body: Any, mentions: list[str]
) -> None:
    error = assert_error(client.post("/jobs", json=body), 422, *mentions)
    assert error["error"] == "invalid_request"
    assert error["fields"]
    assert client.get("/jobs").json()["_count"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (job_body(max_failures=2**31), "max_failures"),
        (job_body(heartbeat_interval=2**70), "heartbeat_interval"),
        (job_body(group="g" * 256), "container_group_id"),
    ],
)
def test_values_the_database_cannot_hold_are_a_422(
    client: httpx.Client, body: dict[str, Any], field: str
) -> None:
    assert_error(client.post("/jobs", json=body), 422, field)
    work = {"machine_id": "m" * 256, "container_group_id": "g"}
    assert_error(client.get("/work", params=work), 422, "machine_id")
    assert client.get("/jobs").json()["_count"] == 0


def test_malformed_json_is_a_400(client: httpx.Client) -> None:
    response = client.post(
        "/jobs", content=b'{"command": ', headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400, "JSON")


def test_a_batch_is_all_or_nothing(client: httpx.Client) -> None:
    group = new_group()
    good = job_body(group)
    bad = job_body(group, max_failures=0)

    assert_error(client.post("/jobs/batch", json=[good, good, bad]), 422, "[2].max_failures")
    assert client.get("/jobs").json()["_count"] == 0

    response = client.post("/jobs/batch", json=[good] * 3)
    assert response.status_code == 202, response.text
    jobs = response.json()
    assert [job["status"] for job in jobs] == ["pending"] * 3
    assert len({job["id"] for job in jobs}) == 3


def test_a_batch_holds_1_to_1000_jobs(client: httpx.Client) -> None:
    small = {"command": "x", "container_group_id": new_group(), **LEGACY}
    assert_error(client.post("/jobs/batch", json=[]), 422, "at least 1")
    assert_error(client.post("/jobs/batch", json=[small] * 1001), 422, "1000")
    response = client.post("/jobs/batch", json=[small] * 1000)
    assert response.status_code == 202, response.text
    assert len(response.json()) == 1000


def test_list_filters_pages_and_sorts(client: httpx.Client) -> None:
    group, other = new_group(), new_group()
    ids = [submit(client, group)["id"] for _ in range(5)]
    submit(client, other)

    everything = client.get("/jobs").json()
    assert everything["_count"] == 6
    newest_first = client.get("/jobs", params={"container_group_id": group}).json()
    assert newest_first["_count"] == 5
    assert [job["id"] for job in newest_first["jobs"]] == ids[::-1]

    page = client.get(
        "/jobs",
        params={"container_group_id": group, "page_size": 2, "page": 2, "asc": "true"},
    ).json()
    assert page["_count"] == 5
    assert [job["id"] for job in page["jobs"]] == ids[2:4]

    assert client.get("/jobs", params={"status": "running"}).json() == {"_count": 0, "jobs": []}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"page": 0}, "page"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": "many"}, "page_size"),
        ({"asc": "sideways"}, "asc"),
    ],
)
def test_bad_list_queries_are_422(client: httpx.Client, params: dict[str, Any], field: str) -> None:
    assert_error(client.get("/jobs", params=params), 422, field)


def test_unknown_and_malformed_job_ids_are_404(client: httpx.Client) -> None:
    assert_error(client.get("/jobs/2b1e3d4c-0000-4000-8000-000000000000"), 404)
    assert_error(client.get("/jobs/not-a-uuid"), 404)
    assert_error(client.delete("/jobs/not-a-uuid"), 404)


def test_a_body_over_one_mebibyte_is_a_413(client: httpx.Client) -> None:
    huge = job_body(environment={"BLOB": "x" * (1024 * 1024)})
    assert_error(client.post("/jobs", json=huge), 413, "limit")

    def chunks() -> Any:
        for _ in range(20):
            yield b"x" * 65536

    streamed = client.post("/jobs", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(streamed, 413)
    assert client.get("/jobs").json()["_count"] == 0


ODD_BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b"42",
    b'"text"',
    b"\xff\xfe\x00garbage",
    b'{"command": null, "container_group_id": []}',
    b'{"command": "x", "container_group_id": "g", "sync": "yes"}',
    b'{"command": "x", "container_group_id": "g", "sync": {"before": [null]}}',
    b'{"command": "x", "container_group_id": "g", "sync": {"after": [{"pattern": 5}]}}',
    b'{"command": "x", "container_group_id": "g", "environment": []}',
    b'{"command": "x", "container_group_id": "g", "max_failures": 1e400}',
    b'{"command": "x", "container_group_id": "g", "max_failures": 99999999999999999999999}',
    b'{"command": "\\u0000", "container_group_id": "\\ud800"}',
    b'{"a": ' * 5000 + b"1" + b"}" * 5000,
]


@pytest.mark.parametrize("path", ["/jobs", "/jobs/batch", "/users", "/jobs/{id}/heartbeat"])
def test_odd_bodies_never_produce_a_500(server: ApiServer, user: User, path: str) -> None:
    target = path.format(id="2b1e3d4c-0000-4000-8000-000000000000")
    headers = {"Content-Type": "application/json"}
    with server.client(None if path == "/users" else user) as api:
        for body in ODD_BODIES:
            response = api.post(target, content=body, headers=headers)
            assert 400 <= response.status_code < 500, (body[:80], response.text)
            assert set(response.json()) >= {"error", "message"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (job_body(command="a\u0000b"), "command"),
        (job_body(arguments=["ok", "\u0000"]), "arguments[1]"),
        (job_body(environment={"\u0000": "x"}), "environment.\u0000"),
        ([job_body(), job_body(environment={"A": "\ud800"})], "[1].environment.A"),
    ],
)
def test_text_no_database_can_store_is_a_422(client: httpx.Client, body: Any, field: str) -> None:
    content = json.dumps(body).encode()
    path = "/jobs/batch" if isinstance(body, list) else "/jobs"
    response = client.post(path, content=content, headers={"Content-Type": "application/json"})
    assert_error(response, 422, field, "NUL")
    work = {"machine_id": "m\u0000", "container_group_id": "g"}
    assert_error(client.get("/work", params=work), 422, "machine_id")
    assert_error(client.delete("/jobs/container-groups/g%00"), 422, "container_group_id")


def test_requests_without_a_known_key_are_401(server: ApiServer) -> None:
    with httpx.Client(base_url=server.url) as anonymous:
        assert_error(anonymous.get("/jobs"), 401, "X-Kelpie-Key")
        assert_error(anonymous.post("/jobs", json={"bad": "body"}), 401)
    with httpx.Client(base_url=server.url, headers={"X-Kelpie-Key": "nope"}) as stranger:
        work = {"machine_id": "m", "container_group_id": "g"}
        assert_error(stranger.get("/work", params=work), 401)
        assert_error(stranger.get("/users/me"), 401)


def test_admin_endpoints_need_the_admin_key(server: ApiServer, user: User) -> None:
    with server.client(user) as as_user:
        assert_error(as_user.post("/users", json={"username": "sneaky"}), 401, "admin")
        assert_error(as_user.post(f"/users/{user.id}/token", json={}), 401, "admin")
    with server.client() as admin:
        assert_error(admin.post("/users", json={"username": user.username}), 409)
        assert_error(admin.post("/users", json={"username": ""}), 422, "username")
        assert_error(admin.post("/users/4e1bd7b8-0000-4000-8000-000000000000/token", json={}), 404)
        assert_error(admin.post("/users/nobody/token"), 404)
        token = admin.post(f"/users/{user.id}/token", json={"org_name": "o", "project_name": "p"})
        assert token.status_code == 201, token.text
    with httpx.Client(base_url=server.url, headers={"X-Kelpie-Key": token.json()["token"]}) as c:
        me = c.get("/users/me").json()
    assert (me["id"], me["username"]) == (user.id, user.username)
    assert TIMESTAMP.match(me["created"])


def test_unknown_routes_and_methods_answer_json(client: httpx.Client) -> None:
    assert_error(client.get("/nothing/here"), 404)
    assert_error(client.put("/jobs"), 405)


def test_openapi_and_docs_are_served(server: ApiServer) -> None:
    spec = httpx.get(server.url + "/openapi.json").json()
    expected = {"/jobs", "/jobs/batch", "/work", "/jobs/{job_id}/release", "/healthz"}
    assert expected <= set(spec["paths"])
    assert httpx.get(server.url + "/docs").status_code == 200


def test_healthz_answers_when_the_database_does(server: ApiServer) -> None:
    response = httpx.get(server.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_users_create_prints_an_id_and_a_working_token(server: ApiServer, tmp_path: Path) -> None:
    database = {"KELPIE_DATABASE_URL": server.database_url}
    created = kelpie("users", "create", "operator-made", cwd=tmp_path, **database)
    assert created.returncode == 0, created.stderr
    fields = dict(line.split(": ", 1) for line in created.stdout.splitlines())
    headers = {"X-Kelpie-Key": fields["token"]}
    me = httpx.get(server.url + "/users/me", headers=headers).json()
    assert (me["id"], me["username"]) == (fields["id"], "operator-made")

    again = kelpie("users", "create", "operator-made", cwd=tmp_path, **database)
    assert again.returncode == 1
    assert "taken" in again.stderr
    assert "Traceback" not in again.stderr
