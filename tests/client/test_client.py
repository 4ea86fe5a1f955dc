"""The client against a fake API (an injected transport), and where the CLI finds the API."""

import asyncio
import json
import stat
from pathlib import Path

import httpx
import pytest

from kelpie.client import (
    Connection,
    Credentials,
    KelpieClient,
    NoConnection,
    load_credentials,
    resolve_connection,
    save_credentials,
)
from kelpie.client.histories import fetch_histories

JOB = {
    "id": "j1",
    "user_id": "u",
    "status": "completed",
    "created": "2026-01-01T00:00:00.000Z",
    "command": "python",
    "container_group_id": "g",
}
EVENT = {"id": 1, "job_id": "j1", "kind": "submitted", "at": "2026-01-01T00:00:00.000Z"}


def fake_api(request: httpx.Request) -> httpx.Response:
    assert request.headers["X-Kelpie-Key"] == "key"
    if request.url.path == "/jobs":
        page = int(request.url.params["page"])
        assert request.url.params["container_group_id"] == "g"
        jobs = [{**JOB, "id": f"j{page}-{n}"} for n in range(100 if page == 1 else 3)]
        return httpx.Response(200, json={"_count": 103, "jobs": jobs})
    if request.url.path.endswith("/events"):
        job_id = request.url.path.split("/")[2]
        return httpx.Response(200, json={"events": [{**EVENT, "job_id": job_id}]})
    return httpx.Response(404, json={"error": "not_found", "message": "no"})


def test_histories_follow_every_page_and_fetch_each_jobs_events() -> None:
    async def fetch() -> list[tuple[str, str]]:
        async with KelpieClient(
            "http://api", "key", transport=httpx.MockTransport(fake_api)
        ) as client:
            histories = await fetch_histories(client, container_group_id="g")
        return [(history.job.id, history.events[0].job_id) for history in histories]

    pairs = asyncio.run(fetch())

    assert len(pairs) == 103
    assert all(job_id == event_job for job_id, event_job in pairs)


def test_credentials_are_private_and_read_back(tmp_path: Path) -> None:
    saved = Credentials("http://127.0.0.1:8000", "user-key", "admin-key", "u1", "local")

    path = save_credentials(tmp_path / ".kelpie", saved)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_credentials(tmp_path / ".kelpie") == saved
    assert json.loads(path.read_text())["api_key"] == "user-key"


def test_flags_win_over_environment_which_wins_over_the_local_platform(tmp_path: Path) -> None:
    save_credentials(tmp_path, Credentials("http://file:1/", "file-key", "admin", "u", "n"))

    assert resolve_connection(None, None, tmp_path, {}) == Connection("http://file:1", "file-key")
    assert resolve_connection(None, None, tmp_path, {"KELPIE_API_KEY": "env-key"}) == Connection(
        "http://file:1", "env-key"
    )
    assert resolve_connection(
        "http://flag:2", None, tmp_path, {"KELPIE_API_URL": "http://env:3"}
    ) == (Connection("http://flag:2", "file-key"))


def test_no_source_at_all_says_where_to_look(tmp_path: Path) -> None:
    with pytest.raises(NoConnection, match=r"API URL and API key.*kelpie up"):
        resolve_connection(None, None, tmp_path, {})
