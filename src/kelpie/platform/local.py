"""The local platform: the API process, the credentials it is reached with, the worker pool.

    async with LocalPlatform(settings) as platform:
        ...  # platform.credentials, platform.client, platform.pool

Starting: the API (SQLite under the folder) and, once it answers, a user and a key (made on
the first start, kept in the folder), then the workers. Stopping: the workers first, each
given its grace period to save and release its job, then the API.
"""

import asyncio
import secrets
import signal
import socket
import sys
from pathlib import Path
from types import TracebackType
from typing import Self

from kelpie.client import ApiError, Credentials, KelpieClient, load_credentials, save_credentials
from kelpie.platform.settings import PlatformSettings
from kelpie.platform.workers import WorkerPool

API_START_TIMEOUT_S = 60.0
API_STOP_TIMEOUT_S = 15.0
USERNAME = "local"


class PlatformError(Exception):
    """The platform could not start; the message says what to look at."""


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def check_port_free(host: str, port: int) -> None:
    """A second platform on the same port would answer our health checks: refuse early."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise PlatformError(
                f"{host}:{port} is in use (another `kelpie up`?); choose another with --port"
            ) from exc


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class LocalPlatform:
    def __init__(self, settings: PlatformSettings) -> None:
        self.settings = settings
        port = settings.port or free_port(settings.host)
        self.api_url = f"http://{settings.host}:{port}"
        self._port = port
        self._api: asyncio.subprocess.Process | None = None
        self._credentials: Credentials | None = None
        self._client: KelpieClient | None = None
        self._pool: WorkerPool | None = None

    @property
    def credentials(self) -> Credentials:
        if self._credentials is None:
            raise RuntimeError("the platform is not started")
        return self._credentials

    @property
    def client(self) -> KelpieClient:
        """The API as the platform's user sees it."""
        if self._client is None:
            raise RuntimeError("the platform is not started")
        return self._client

    @property
    def pool(self) -> WorkerPool:
        if self._pool is None:
            raise RuntimeError("the platform is not started")
        return self._pool

    @property
    def api_log(self) -> Path:
        return self.settings.logs / "api.log"

    async def __aenter__(self) -> Self:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        folder = self.settings.folder_path
        folder.mkdir(parents=True, exist_ok=True)
        self.settings.logs.mkdir(parents=True, exist_ok=True)
        saved = load_credentials(folder)
        admin_key = saved.admin_key if saved else secrets.token_urlsafe(32)
        await self._start_api(admin_key)
        self._credentials = await self._user_credentials(saved, admin_key)
        save_credentials(folder, self._credentials)
        self._client = KelpieClient(self.api_url, self._credentials.api_key)
        self._pool = WorkerPool(
            size=self.settings.workers,
            root=folder / "workers",
            logs=self.settings.logs,
            environment={
                **self.settings.storage_environment(),
                "KELPIE_API_URL": self.api_url,
                "KELPIE_API_KEY": self._credentials.api_key,
                "KELPIE_CONTAINER_GROUP_ID": self.settings.container_group_id,
                "KELPIE_GRACE_PERIOD_S": str(self.settings.grace_period_s),
                "KELPIE_LONG_POLL_S": str(self.settings.long_poll_s),
            },
            policy=self.settings.restart,
            grace_period_s=self.settings.grace_period_s,
        )
        self._pool.start()

    async def _start_api(self, admin_key: str) -> None:
        check_port_free(self.settings.host, self._port)
        with self.api_log.open("ab") as log:
            self._api = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "kelpie", "server",
                "--host", self.settings.host, "--port", str(self._port),
                env={
                    **self.settings.environ,
                    "KELPIE_DATABASE_URL": self.settings.database_url,
                    "KELPIE_ADMIN_KEY": admin_key,
                },
                cwd=self.settings.folder_path,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        async with KelpieClient(self.api_url, admin_key, timeout=2.0) as probe:
            deadline = asyncio.get_running_loop().time() + API_START_TIMEOUT_S
            while not await probe.healthy():
                if self._api.returncode is not None:
                    raise PlatformError(
                        f"the API exited with {self._api.returncode}; its log ends with:\n"
                        + log_tail(self.api_log)
                    )
                if asyncio.get_running_loop().time() > deadline:
                    raise PlatformError(f"the API did not answer within {API_START_TIMEOUT_S} s")
                await asyncio.sleep(0.1)

    async def _user_credentials(self, saved: Credentials | None, admin_key: str) -> Credentials:
        """The saved user if its key still works (the database may have been deleted)."""
        if saved is not None:
            async with KelpieClient(self.api_url, saved.api_key) as user:
                try:
                    await user.me()
                except ApiError:
                    pass
                else:
                    return Credentials(
                        self.api_url, saved.api_key, admin_key, saved.user_id, saved.username
                    )
        async with KelpieClient(self.api_url, admin_key) as admin:
            username = USERNAME if saved is None else f"{USERNAME}-{secrets.token_hex(3)}"
            user_id = await admin.create_user(username)
            token = await admin.create_token(user_id)
        return Credentials(self.api_url, token, admin_key, user_id, username)

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.stop()
        if self._client is not None:
            await self._client.close()
        api = self._api
        if api is not None and api.returncode is None:
            api.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(api.wait(), API_STOP_TIMEOUT_S)
            except TimeoutError:
                api.kill()
                await api.wait()
