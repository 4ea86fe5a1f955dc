"""Storage backends for tests: S3 against moto's real HTTP server, and a local folder.

Each test gets a bucket of its own, so tests never see each other's objects.
"""

import secrets
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from mypy_boto3_s3 import S3Client

from kelpie.storage import Storage, storage_from_env
from tests.support.servers import S3Server


def s3_client(server: S3Server) -> S3Client:
    """A plain boto3 client, for putting into the store what our code would never write."""
    return boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        aws_access_key_id=server.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=server.env["AWS_SECRET_ACCESS_KEY"],
        region_name=server.env["AWS_REGION"],
    )


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def bucket() -> str:
    return f"test-{secrets.token_hex(6)}"


@pytest.fixture
def s3_storage(s3: S3Server, bucket: str) -> Iterator[Storage]:
    s3_client(s3).create_bucket(Bucket=bucket)
    storage = storage_from_env(s3.env)
    yield storage
    storage.close()


@pytest.fixture
def local_storage(tmp_path: Path) -> Iterator[Storage]:
    storage = storage_from_env({"KELPIE_STORAGE_DIR": str(tmp_path / "store")})
    yield storage
    storage.close()


@pytest.fixture(params=["s3", "local"])
def storage(request: pytest.FixtureRequest) -> Storage:
    """Both backends: the same behaviour is expected of each."""
    chosen: Storage = request.getfixturevalue(f"{request.param}_storage")
    return chosen
