"""A folder as an object store (``KELPIE_STORAGE_DIR``): for one machine without S3.

Bucket ``b`` is the sub-folder ``b``, key ``k`` the file ``b/k``. Buckets are created on first
upload and a missing one lists as empty. Keys pass the same safety check as downloads, and
every write is a temporary file renamed into place, so readers never see half an object.
"""

import asyncio
import functools
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from kelpie.storage.atomic import is_partial, write_atomically
from kelpie.storage.base import ObjectInfo, ProgressCallback, StorageError
from kelpie.storage.cancellation import Stopped, until_stopped
from kelpie.storage.keys import path_for_key

T = TypeVar("T")
_COPY_CHUNK = 4 * 1024 * 1024


def _copy_file(
    source: Path, destination: Path, stop: threading.Event, progress: ProgressCallback | None
) -> int:
    copied = 0

    def copy(temporary: Path) -> None:
        nonlocal copied
        with source.open("rb") as reader, temporary.open("wb") as writer:
            while chunk := reader.read(_COPY_CHUNK):
                if stop.is_set():
                    raise Stopped
                writer.write(chunk)
                copied += len(chunk)
                if progress is not None:
                    progress(len(chunk))
        if stop.is_set():
            raise Stopped

    write_atomically(destination, copy)
    return copied


def _list(bucket_root: Path, prefix: str) -> list[ObjectInfo]:
    folder, _, _ = prefix.rpartition("/")
    start = path_for_key(bucket_root, folder) if folder else bucket_root
    found = []
    for directory, _, names in os.walk(start):
        for name in names:
            path = Path(directory, name)
            key = path.relative_to(bucket_root).as_posix()
            if key.startswith(prefix) and not is_partial(path):
                found.append(ObjectInfo(key, path.stat().st_size))
    return sorted(found, key=lambda info: info.key)


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self._root = root

    def __repr__(self) -> str:
        return f"LocalStorage({str(self._root)!r})"

    def _bucket_root(self, bucket: str) -> Path:
        if "/" in bucket:
            raise StorageError(f"invalid bucket name {bucket!r}")
        return path_for_key(self._root, bucket)

    def _object_path(self, bucket: str, key: str) -> Path:
        return path_for_key(self._bucket_root(bucket), key)

    async def _run(self, action: str, function: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(None, function)
        except OSError as exc:
            raise StorageError(f"{action} failed: {exc}") from exc

    async def _copy(
        self, source: Path, destination: Path, progress: ProgressCallback | None
    ) -> int:
        stop = threading.Event()
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(None, _copy_file, source, destination, stop, progress)
        try:
            return await until_stopped(future, stop.set)
        except OSError as exc:
            raise StorageError(f"copying {source} to {destination} failed: {exc}") from exc

    async def list(self, bucket: str, prefix: str) -> list[ObjectInfo]:
        bucket_root = self._bucket_root(bucket)
        return await self._run(
            f"listing {bucket}/{prefix}", functools.partial(_list, bucket_root, prefix)
        )

    async def download(
        self,
        bucket: str,
        key: str,
        destination: Path,
        *,
        size: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        await self._copy(self._object_path(bucket, key), destination, progress)

    async def upload(
        self, source: Path, bucket: str, key: str, *, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        copied = await self._copy(source, self._object_path(bucket, key), progress)
        return ObjectInfo(key, copied)

    async def head(self, bucket: str, key: str) -> ObjectInfo | None:
        path = self._object_path(bucket, key)

        def stat() -> ObjectInfo | None:
            return ObjectInfo(key, path.stat().st_size) if path.is_file() else None

        return await self._run(f"reading {bucket}/{key}", stat)

    async def delete(self, bucket: str, key: str) -> None:
        path = self._object_path(bucket, key)
        await self._run(f"deleting {bucket}/{key}", functools.partial(path.unlink, missing_ok=True))

    def close(self) -> None:
        """Nothing to release: every call uses the event loop's default thread pool."""
