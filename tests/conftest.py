"""Fixtures shared by every tier: real servers over real sockets, on SQLite and PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import ApiServer, S3Server, api_server, database, s3_server

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """One API server per test module and backend; tests keep apart by using their own users."""
    folder = tmp_path_factory.mktemp(f"api-{request.param}")
    with database(request.param, folder) as url, api_server(url, folder) as running:
        yield running


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    folder: Path = tmp_path_factory.mktemp("s3")
    with s3_server(folder) as running:
        yield running
