"""Each test takes a fresh user on the module's server, so tests never see each other's jobs."""

from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import ApiServer, User


@pytest.fixture
def user(server: ApiServer) -> User:
    return server.new_user()


@pytest.fixture
def client(server: ApiServer, user: User) -> Iterator[httpx.Client]:
    with server.client(user) as api:
        yield api
