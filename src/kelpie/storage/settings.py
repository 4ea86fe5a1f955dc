"""How the storage backends are configured from the environment.

The S3 backend reads the standard AWS variables (so any S3-compatible store works through
``AWS_ENDPOINT_URL``) plus a few of ours for throughput. Values come from the mapping given,
not from ``os.environ`` behind the caller's back, so tests and several workers in one
process can each have their own.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from s3transfer.manager import TransferConfig

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024


def read_int(environ: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    """An integer setting; a wrong value is a clear error naming the variable, not a crash later."""
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True, kw_only=True)
class S3Settings:
    """Uploads go in parts of ``part_size``; downloads in ranges of ``download_range_size``.

    Ranges are larger than parts because some stores (moto, for one) read the whole object
    for every ranged GET, so many small ranges cost far more than a few large ones; on AWS
    S3 a few streams per file of this size still fill the link.
    """

    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    profile: str | None = None
    max_attempts: int | None = None
    retry_mode: str = "standard"
    part_size: int = 8 * MIB
    download_range_size: int = 64 * MIB
    max_connections: int = 32

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "S3Settings":
        attempts = environ.get("AWS_MAX_ATTEMPTS")
        return cls(
            endpoint_url=environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL"),
            region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION"),
            access_key_id=environ.get("AWS_ACCESS_KEY_ID"),
            secret_access_key=environ.get("AWS_SECRET_ACCESS_KEY"),
            session_token=environ.get("AWS_SESSION_TOKEN"),
            profile=environ.get("AWS_PROFILE"),
            max_attempts=None if attempts is None else read_int(environ, "AWS_MAX_ATTEMPTS", 3),
            retry_mode=environ.get("AWS_RETRY_MODE", "standard"),
            part_size=read_int(environ, "KELPIE_S3_PART_SIZE_MB", cls.part_size // MIB, 5) * MIB,
            download_range_size=read_int(
                environ, "KELPIE_S3_DOWNLOAD_RANGE_MB", cls.download_range_size // MIB
            )
            * MIB,
            max_connections=read_int(environ, "KELPIE_S3_MAX_CONNECTIONS", cls.max_connections),
        )

    def client(self) -> "S3Client":
        retries: dict[str, object] = {"mode": self.retry_mode}
        if self.max_attempts is not None:
            retries["total_max_attempts"] = self.max_attempts
        session = boto3.session.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            aws_session_token=self.session_token,
            region_name=self.region,
            profile_name=self.profile,
        )
        return session.client(
            "s3",
            endpoint_url=self.endpoint_url,
            config=Config(max_pool_connections=self.max_connections, retries=retries),  # type: ignore[arg-type]
        )

    def transfer_config(self, chunk_size: int) -> TransferConfig:
        """Objects of ``chunk_size`` or more move in parallel chunks of that size."""
        return TransferConfig(
            multipart_threshold=chunk_size,
            multipart_chunksize=chunk_size,
            max_request_concurrency=self.max_connections,
            max_submission_concurrency=self.max_connections,
            io_chunksize=MIB,
        )
