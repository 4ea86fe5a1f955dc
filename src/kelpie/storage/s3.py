"""S3 and S3-compatible stores through boto3.

Uploads of files of one part or more go through s3transfer, which sends parts in parallel;
its futures are bridged to asyncio through a subscriber, so transfers in flight cost no
thread each while they wait. Downloads are ranged GETs of our own, fetched in parallel and
written in place with ``pwrite``: measured against moto, s3transfer's download machinery
(its IO queue and writer thread) used three to five times the CPU for the same bytes, and
on a small machine that CPU is taken from everything else. Anything smaller than one part
or range goes in a single request from our thread pool. One client serves every thread
(boto3 clients are thread-safe; resources are not).
"""

import asyncio
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.futures import TransferFuture
from s3transfer.manager import TransferManager
from s3transfer.subscribers import BaseSubscriber

from kelpie.storage.atomic import write_atomically
from kelpie.storage.base import ObjectInfo, ProgressCallback, StorageError
from kelpie.storage.cancellation import Stopped, until_stopped
from kelpie.storage.settings import S3Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")

_TRANSLATED = (BotoCoreError, ClientError, OSError)
_READ_CHUNK = 1024 * 1024


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
        progress: ProgressCallback | None,
    ) -> None:
        self._loop = loop
        self._outcome = outcome
        self._progress = progress

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
        self._range_size = settings.download_range_size
        self._uploads = TransferManager(client, settings.transfer_config(settings.part_size))
        self._ranges = ThreadPoolExecutor(
            settings.max_connections, thread_name_prefix="kelpie-s3-range"
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

    @staticmethod
    def _write_body(
        body: Any, fd: int, offset: int, stop: threading.Event, progress: ProgressCallback | None
    ) -> int:
        """Writes a response body at ``offset`` in ``fd``; returns the offset after it."""
        try:
            for chunk in body.iter_chunks(_READ_CHUNK):
                if stop.is_set():
                    raise Stopped
                os.pwrite(fd, chunk, offset)
                offset += len(chunk)
                if progress is not None:
                    progress(len(chunk))
        finally:
            body.close()
        return offset

    def _get_range(
        self,
        bucket: str,
        key: str,
        fd: int,
        first: int,
        end: int,
        stop: threading.Event,
        progress: ProgressCallback | None,
    ) -> None:
        """Writes bytes ``first`` to ``end`` (exclusive) of the object at their offset in ``fd``."""
        response = self._client.get_object(Bucket=bucket, Key=key, Range=f"bytes={first}-{end - 1}")
        written = self._write_body(response["Body"], fd, first, stop, progress)
        if written != end:
            raise StorageError(f"s3://{bucket}/{key}: got {written - first} of {end - first} bytes")

    def _get_whole(
        self,
        bucket: str,
        key: str,
        size: int,
        stop: threading.Event,
        progress: ProgressCallback | None,
        temporary: Path,
    ) -> None:
        response = self._client.get_object(Bucket=bucket, Key=key)
        with temporary.open("wb") as file:
            self._write_body(response["Body"], file.fileno(), 0, stop, progress)

    def _get_in_ranges(
        self,
        bucket: str,
        key: str,
        size: int,
        stop: threading.Event,
        progress: ProgressCallback | None,
        temporary: Path,
    ) -> None:
        """Ranges fetched in parallel, each written in place; all have ended when this returns."""
        with temporary.open("wb") as file:
            file.truncate(size)
            ranges = [
                self._ranges.submit(
                    self._get_range,
                    bucket,
                    key,
                    file.fileno(),
                    first,
                    min(first + self._range_size, size),
                    stop,
                    progress,
                )
                for first in range(0, size, self._range_size)
            ]
            _, pending = wait(ranges, return_when=FIRST_EXCEPTION)
            if pending:
                stop.set()
                wait(pending)
        failures = [error for fetched in ranges if (error := fetched.exception()) is not None]
        if failures:
            raise next((e for e in failures if not isinstance(e, Stopped)), failures[0])

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
        progress: ProgressCallback | None,
    ) -> int:
        loop = asyncio.get_running_loop()
        outcome: asyncio.Future[int] = loop.create_future()
        transfer = start([_Bridge(loop, outcome, progress)])
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
        if size is None:
            found = await self.head(bucket, key)
            if found is None:
                raise StorageError(f"{action} failed: no such object")
            size = found.size
        fetch = self._get_whole if size < self._range_size else self._get_in_ranges
        stop = threading.Event()
        await self._call(
            action,
            functools.partial(
                write_atomically,
                destination,
                functools.partial(fetch, bucket, key, size, stop, progress),
            ),
            stop.set,
        )

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
        self._ranges.shutdown(wait=True)
        self._executor.shutdown(wait=True)
