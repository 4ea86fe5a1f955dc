"""Store tests: a real database per module and backend, a fresh user per test.

Every store method is scoped to a user, so tests that share a database keep apart by
using their own users; a database per module keeps the tier fast.
"""

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from kelpie.store import JobStore, UserRecord
from tests.conftest import BACKENDS
from tests.support.servers import database


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with database(request.param, tmp_path_factory.mktemp(f"store-{request.param}")) as url:
        yield url


@pytest.fixture(scope="module")
async def store(database_url: str) -> AsyncIterator[JobStore]:
    opened = await JobStore.open(database_url)
    yield opened
    await opened.close()


@pytest.fixture
async def user(store: JobStore) -> UserRecord:
    return await store.create_user(f"user-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def group() -> str:
    return f"group-{uuid.uuid4().hex[:8]}"
