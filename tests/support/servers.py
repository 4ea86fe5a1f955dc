"""The API server and the S3 server as the tests see them: real processes on loopback."""

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support import databases, processes

ADMIN_KEY_HEADER = "X-Kelpie-Key"


@dataclass
class User:
    id: str
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {ADMIN_KEY_HEADER: self.token}


@dataclass
class ApiServer:
    url: str
    admin_key: str
    database_url: str
    log: Path
    process: object = field(repr=False)

    def client(self, user: User | None = None, timeout: float = 30.0) -> httpx.Client:
        headers = user.headers if user else {ADMIN_KEY_HEADER: self.admin_key}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def new_user(self, username: str | None = None) -> User:
        """A user and a token, made through the admin API as an operator would."""
        name = username or f"user-{secrets.token_hex(4)}"
        with self.client() as admin:
            created = admin.post("/users", json={"username": name})
            created.raise_for_status()
            user_id = created.json()["id"]
            token = admin.post(f"/users/{user_id}/token", json={})
            token.raise_for_status()
        return User(id=user_id, username=name, token=token.json()["token"])


@contextmanager
def api_server(database_url: str, folder: Path, **env: str) -> Iterator[ApiServer]:
    """Runs ``kelpie server`` on a free port over ``database_url`` until the block ends."""
    port = processes.free_port()
    admin_key = secrets.token_urlsafe(24)
    log = folder / f"api-{port}.log"
    process = processes.start(
        processes.kelpie_command("server", "--host", "127.0.0.1", "--port", str(port)),
        {"KELPIE_DATABASE_URL": database_url, "KELPIE_ADMIN_KEY": admin_key, **env},
        log,
        cwd=folder,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_until_up(url + "/healthz", process)
        yield ApiServer(url, admin_key, database_url, log, process)
    finally:
        processes.stop(process)


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh, empty database of ``kind`` (``sqlite`` or ``postgres``) for one server."""
    if kind == "sqlite":
        yield databases.sqlite_url(folder)
        return
    url = databases.create_postgres_database()
    try:
        yield url
    finally:
        databases.drop_postgres_database(url)


@dataclass
class S3Server:
    endpoint_url: str
    env: dict[str, str]


@contextmanager
def s3_server(folder: Path) -> Iterator[S3Server]:
    """moto's standalone S3 server over HTTP, with the AWS variables that point at it."""
    port = processes.free_port()
    process = processes.start(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        {},
        folder / f"moto-{port}.log",
    )
    url = f"http://127.0.0.1:{port}"
    try:
        processes.wait_until_up(url + "/moto-api/", process)
        yield S3Server(
            url,
            {
                "AWS_ENDPOINT_URL": url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_REGION": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1",
            },
        )
    finally:
        processes.stop(process)
