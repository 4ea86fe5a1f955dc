"""S3 and S3-compatible stores through boto3, with s3transfer doing the heavy lifting.

Objects smaller than one part go in a single request from our own thread pool: s3transfer's
per-transfer machinery (submission thread, IO queue, its own temporary file) costs more than
the request itself for small files. Larger ones go through s3transfer, which sends parts in
parallel; its futures are bridged to asyncio through a subscriber, so transfers in flight
cost no thread each while they wait. One client serves every thread (boto3 clients
are thread-safe; resources are not).
"""

import asyncio
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.futures import TransferFuture
from s3transfer.manager import TransferManager
from s3transfer.subscribers import BaseSubscriber

from kelpie.storage.atomic import temporary_sibling, write_atomically
from kelpie.storage.base import ObjectInfo, ProgressCallback, StorageError
from kelpie.storage.cancellation import until_stopped
from kelpie.storage.settings import S3Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")

_TRANSLATED = (BotoCoreError, ClientError, OSError)
_READ_CHUNK = 1024 * 1024


class _Stopped(Exception):
    """A single-request download was asked to stop; nothing was published."""


def _etag(raw: str | None) -> str | None:
    return raw.strip('"') if raw else None


def _failure(action: str, exc: BaseException) -> StorageError:
    return StorageError(f"{action} failed: {exc}")


class _Bridge(BaseSubscriber):
    """Hands a transfer's progress and outcome from s3transfer's threads to the event loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        outcome: "asyncio.Future[int]",
        size: int | None,
        progress: ProgressCallback | None,
    ) -> None:
        self._loop = loop
        self._outcome = outcome
        self._size = size
        self._progress = progress

    def on_queued(self, future: TransferFuture, **kwargs: Any) -> None:
        if self._size is not None:
            future.meta.provide_transfer_size(self._size)

    def on_progress(self, future: TransferFuture, bytes_transferred: int, **kwargs: Any) -> None:
        if self._progress is not None:
            self._progress(bytes_transferred)

    def on_done(self, future: TransferFuture, **kwargs: Any) -> None:
        self._loop.call_soon_threadsafe(self._settle, future)

    def _settle(self, future: TransferFuture) -> None:
        if self._outcome.done():
            return
        try:
            future.result()
        except BaseException as exc:  # every failure is handed over, translated by the caller
            self._outcome.set_exception(exc)
        else:
            self._outcome.set_result(future.meta.size or 0)


class S3Storage:
    def __init__(self, client: "S3Client", settings: S3Settings) -> None:
        self._client = client
        self._upload_limit = settings.part_size
        self._download_limit = settings.download_range_size
        self._uploads = TransferManager(client, settings.transfer_config(settings.part_size))
        self._downloads = TransferManager(
            client, settings.transfer_config(settings.download_range_size)
        )
        self._executor = ThreadPoolExecutor(
            settings.max_connections, thread_name_prefix="kelpie-s3"
        )

    @classmethod
    def from_settings(cls, settings: S3Settings) -> "S3Storage":
        return cls(settings.client(), settings)

    async def _call(
        self, action: str, function: Callable[[], T], stop: Callable[[], None] = lambda: None
    ) -> T:
        """Runs one blocking boto3 call in our pool; on cancellation, waits for it to stop."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, function)
        try:
            return await until_stopped(future, stop)
        except _TRANSLATED as exc:
            raise _failure(action, exc) from exc

    def _get_whole(
        self,
        bucket: str,
        key: str,
        destination: Path,
        stop: threading.Event,
        progress: ProgressCallback | None,
    ) -> None:
        body = self._client.get_object(Bucket=bucket, Key=key)["Body"]

        def write(temporary: Path) -> None:
            with temporary.open("wb") as writer:
                for chunk in body.iter_chunks(_READ_CHUNK):
                    if stop.is_set():
                        raise _Stopped
                    writer.write(chunk)
                    if progress is not None:
                        progress(len(chunk))

        try:
            write_atomically(destination, write)
        finally:
            body.close()

    def _put_if_small(
        self, source: Path, bucket: str, key: str, progress: ProgressCallback | None
    ) -> ObjectInfo | None:
        """Puts a file smaller than one part in one request; None for a larger one."""
        size = source.stat().st_size
        if size >= self._upload_limit:
            return None
        with source.open("rb") as body:
            response = self._client.put_object(Bucket=bucket, Key=key, Body=body)
        if progress is not None:
            progress(size)
        return ObjectInfo(key, size, _etag(response.get("ETag")))

    async def _transfer(
        self,
        action: str,
        start: Callable[[list[BaseSubscriber]], TransferFuture],
        size: int | None,
        progress: ProgressCallback | None,
    ) -> int:
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[int] = loop.create_future()
        transfer = start([_Bridge(loop, outcome, size, progress)])
        try:
            return await until_stopped(outcome, transfer.cancel)
        except Exception as exc:
            raise _failure(action, exc) from exc

    async def list(self, bucket: str, prefix: str) -> list[ObjectInfo]:
        def list_all() -> list[ObjectInfo]:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            )
            return [
                ObjectInfo(item["Key"], item["Size"], _etag(item.get("ETag")))
                for page in pages
                for item in page.get("Contents", [])
            ]

        return await self._call(f"listing s3://{bucket}/{prefix}", list_all)

    async def download(
        self,
        bucket: str,
        key: str,
        destination: Path,
        *,
        size: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        action = f"downloading s3://{bucket}/{key}"
        if size is not None and size < self._download_limit:
            stop = threading.Event()
            await self._call(
                action,
                functools.partial(self._get_whole, bucket, key, destination, stop, progress),
                stop.set,
            )
            return
        await self._call(
            action, functools.partial(destination.parent.mkdir, parents=True, exist_ok=True)
        )
        temporary = temporary_sibling(destination)
        try:
            await self._transfer(
                action,
                lambda subscribers: self._downloads.download(
                    bucket, key, str(temporary), subscribers=subscribers
                ),
                size,
                progress,
            )
            await self._call(action, functools.partial(os.replace, temporary, destination))
        finally:
            await self._call(action, functools.partial(temporary.unlink, missing_ok=True))

    async def upload(
        self, source: Path, bucket: str, key: str, *, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        action = f"uploading {source} to s3://{bucket}/{key}"
        small = await self._call(
            action, functools.partial(self._put_if_small, source, bucket, key, progress)
        )
        if small is not None:
            return small
        sent = await self._transfer(
            action,
            lambda subscribers: self._uploads.upload(
                str(source), bucket, key, subscribers=subscribers
            ),
            None,
            progress,
        )
        return ObjectInfo(key, sent)

    async def head(self, bucket: str, key: str) -> ObjectInfo | None:
        def head_object() -> ObjectInfo | None:
            try:
                found = self._client.head_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise
            return ObjectInfo(key, found["ContentLength"], _etag(found.get("ETag")))

        return await self._call(f"reading s3://{bucket}/{key}", head_object)

    async def delete(self, bucket: str, key: str) -> None:
        await self._call(
            f"deleting s3://{bucket}/{key}",
            functools.partial(self._client.delete_object, Bucket=bucket, Key=key),
        )

    def close(self) -> None:
        self._uploads.shutdown()
        self._downloads.shutdown()
        self._executor.shutdown(wait=True)
