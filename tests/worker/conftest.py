from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import ApiServer, S3Server
from tests.worker.harness import Harness, harness_for


@pytest.fixture
def harness(server: ApiServer, s3: S3Server, tmp_path: Path) -> Iterator[Harness]:
    yield from harness_for(server, s3, tmp_path)
