"""What every storage backend offers, and the one error it raises.

Backends translate their own failures (botocore, s3transfer, OS errors) into ``StorageError``
where they happen, so the sync engine never has to know which backend it talks to.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

ProgressCallback = Callable[[int], None]
"""Called with the number of bytes moved since the last call; may run in any thread."""


class StorageError(Exception):
    """A storage operation failed; the message names the bucket and key, never a secret."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str | None = None


class Storage(Protocol):
    """An object store seen as buckets of keys. Every method may raise ``StorageError``.

    Cancelling a call stops its transfer and returns only once nothing of it is still being
    written, so a caller that lost its lease can be sure it has stopped writing.
    """

    async def list(self, bucket: str, prefix: str) -> list[ObjectInfo]: ...

    async def download(
        self,
        bucket: str,
        key: str,
        destination: Path,
        *,
        size: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Writes the object to ``destination`` atomically; ``size`` (if known) saves a request."""
        ...

    async def upload(
        self, source: Path, bucket: str, key: str, *, progress: ProgressCallback | None = None
    ) -> ObjectInfo: ...

    async def head(self, bucket: str, key: str) -> ObjectInfo | None: ...

    async def delete(self, bucket: str, key: str) -> None:
        """Removes the object; a missing object is not an error."""
        ...

    def close(self) -> None:
        """Releases threads and connections; the backend is not used afterwards."""
        ...
