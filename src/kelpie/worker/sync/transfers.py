"""Moving one file each way, with retries and tracking: the core both directions share."""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kelpie.storage import ObjectInfo, Storage
from kelpie.storage.atomic import temporary_sibling
from kelpie.worker.sync.compression import PreparedUpload, gunzip_into, prepare_upload
from kelpie.worker.sync.progress import TransferTracker
from kelpie.worker.sync.retry import with_retries
from kelpie.worker.sync.settings import SyncSettings

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Uploaded:
    """An object we put in storage, and what it must look like there to count as stored."""

    key: str
    size: int
    etag: str | None
    """The ETag the store answered our upload with, when it gives one."""


def _discard_temporary(preparing: "asyncio.Future[PreparedUpload]") -> None:
    """Removes the gzip copy of an upload cancelled while it was being made."""
    if not preparing.cancelled() and preparing.exception() is None:
        prepared = preparing.result()
        if prepared.temporary:
            prepared.source.unlink(missing_ok=True)


async def upload_file(
    storage: Storage,
    path: Path,
    bucket: str,
    key: str,
    compression: bool,
    settings: SyncSettings,
    tracker: TransferTracker,
) -> Uploaded:
    """Uploads ``path`` (gzipped when ``compression``) to ``key``, retrying with backoff."""
    preparing = asyncio.ensure_future(asyncio.to_thread(prepare_upload, path, compression))
    try:
        prepared = await asyncio.shield(preparing)
    except asyncio.CancelledError:
        preparing.add_done_callback(_discard_temporary)
        raise
    try:
        with tracker.track("upload", bucket, key, str(path), prepared.size) as transfer:
            stored = await with_retries(
                lambda: storage.upload(prepared.source, bucket, key, progress=transfer.add),
                f"uploading {path} to {bucket}/{key}",
                settings,
            )
    finally:
        if prepared.temporary:
            prepared.source.unlink(missing_ok=True)
    return Uploaded(key, prepared.size, stored.etag)


async def download_object(
    storage: Storage,
    found: ObjectInfo,
    bucket: str,
    destination: Path,
    gunzip: bool,
    settings: SyncSettings,
    tracker: TransferTracker,
) -> None:
    """Downloads one object to ``destination`` (gunzipped when ``gunzip``), with retries."""
    landing = temporary_sibling(destination) if gunzip else destination
    with tracker.track("download", bucket, found.key, str(destination), found.size) as transfer:
        await with_retries(
            lambda: storage.download(
                bucket, found.key, landing, size=found.size, progress=transfer.add
            ),
            f"downloading {bucket}/{found.key}",
            settings,
        )
    if gunzip:
        try:
            await asyncio.to_thread(gunzip_into, landing, destination)
        finally:
            landing.unlink(missing_ok=True)


async def run_each(
    items: Iterable[T], work: Callable[[T], Awaitable[R]], limit: asyncio.Semaphore
) -> list[R | BaseException]:
    """``work`` on every item, at most ``limit`` at once; every outcome, failures included.

    Nothing is abandoned half-way when one item fails: the caller decides what a failure means
    once everything has had its chance.
    """

    async def one(item: T) -> R:
        async with limit:
            return await work(item)

    return await asyncio.gather(*(one(item) for item in items), return_exceptions=True)
