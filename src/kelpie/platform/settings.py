"""What the local platform is made of, and the environment each of its processes gets."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kelpie.platform.supervision import RestartPolicy

S3_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_PROFILE")
"""Any of these set: the platform uses S3 (or the S3-compatible store they name)."""


@dataclass(frozen=True, kw_only=True)
class PlatformSettings:
    folder: Path
    """Holds the database, the credentials, local storage, logs and the workers' folders."""
    workers: int = 3
    host: str = "127.0.0.1"
    port: int = 8000
    """0 picks a free port."""
    container_group_id: str = "local"
    grace_period_s: float = 10.0
    """How long a worker told to stop waits for its job to save a checkpoint."""
    long_poll_s: int = 5
    """How long an idle worker's ``GET /work`` waits (the API answers it as soon as a job is
    free, so this only sets how often an idle worker asks again)."""
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    """The environment every process starts from (tests pass the S3 server's here)."""

    @property
    def folder_path(self) -> Path:
        return self.folder.absolute()

    @property
    def logs(self) -> Path:
        return self.folder_path / "logs"

    @property
    def database_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.folder_path / 'kelpie.db'}"

    @property
    def uses_s3(self) -> bool:
        return any(self.environ.get(name) for name in S3_VARIABLES)

    def storage_environment(self) -> dict[str, str]:
        """The storage every process of the platform (and the demo's uploads) talk to."""
        environment = dict(self.environ)
        if not self.uses_s3:
            environment["KELPIE_STORAGE_DIR"] = str(self.folder_path / "storage")
        return environment

    def describe_storage(self) -> str:
        if self.uses_s3:
            endpoint = self.environ.get("AWS_ENDPOINT_URL_S3") or self.environ.get(
                "AWS_ENDPOINT_URL"
            )
            return f"S3 at {endpoint}" if endpoint else "S3 (AWS)"
        return f"local folder {self.folder_path / 'storage'} (bucket = sub-folder)"
