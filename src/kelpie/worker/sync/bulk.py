"""Whole folders at once: ``sync.before`` downloads and ``sync.after`` uploads.

Uploads are verified by listing each prefix afterwards: every object must be there with the
size we sent and the ETag the store answered our upload with (for a single-part upload to
S3, the MD5 of what it received; the request also carried a CRC32 that S3 checked). We do
not compare with an MD5 of our own: on SSE-KMS buckets ETags are not MD5s, and every upload
would look wrong. The original logged upload errors and reported ``completed`` anyway; here
anything still missing after a second round is a ``SyncError``, so the worker reports
``failed`` instead.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kelpie.jobs.models import SyncConfig
from kelpie.storage import ObjectInfo, Storage, StorageError, UnsafeKeyError, path_for_key
from kelpie.worker.sync.errors import SyncError
from kelpie.worker.sync.paths import (
    GZIP_SUFFIX,
    is_selected,
    object_key,
    resolve_local_path,
    walk_files,
)
from kelpie.worker.sync.progress import TransferTracker, describe_rate
from kelpie.worker.sync.retry import with_retries
from kelpie.worker.sync.settings import SyncSettings
from kelpie.worker.sync.transfers import Uploaded, download_object, run_each, upload_file

logger = logging.getLogger(__name__)

UPLOAD_ROUNDS = 2
"""Upload, verify, upload again what is missing, verify again; then give up."""


@dataclass(frozen=True)
class _Download:
    found: ObjectInfo
    destination: Path
    gunzip: bool


def _failures(outcomes: Sequence[object]) -> list[BaseException]:
    return [outcome for outcome in outcomes if isinstance(outcome, BaseException)]


def _raise_first_unexpected(failures: Sequence[BaseException]) -> None:
    """Storage failures become a ``SyncError``; anything else is a bug and goes up as it is."""
    for failure in failures:
        if not isinstance(failure, StorageError | SyncError):
            raise failure


def _log_summary(verb: str, files: int, size: int, started: float, where: str) -> None:
    seconds = time.monotonic() - started
    rate = files / seconds if seconds > 0 else float("inf")
    logger.info(
        "%s %d files %s: %s, %.0f files/s", verb, files, where, describe_rate(size, seconds), rate
    )


async def _gather_configs(
    configs: Sequence[SyncConfig], run: Callable[[SyncConfig], Awaitable[None]], direction: str
) -> None:
    outcomes = await asyncio.gather(*(run(config) for config in configs), return_exceptions=True)
    failures = _failures(outcomes)
    _raise_first_unexpected(failures)
    if failures:
        raise SyncError(f"{direction} failed: " + "; ".join(str(failure) for failure in failures))


def _plan_downloads(
    config: SyncConfig, root: Path, objects: list[ObjectInfo], compression: bool
) -> list[_Download]:
    planned = []
    for found in objects:
        relative = found.key[len(config.prefix) :]
        if relative == "" or relative.endswith("/"):
            continue  # a folder marker, as consoles create them
        gunzip = compression and relative.endswith(GZIP_SUFFIX)
        if gunzip:
            relative = relative[: -len(GZIP_SUFFIX)]
        if not is_selected(config, relative):
            continue
        try:
            destination = path_for_key(root, relative)
        except UnsafeKeyError as exc:
            logger.error("not downloading %s/%s: %s", config.bucket, found.key, exc)
            continue
        planned.append(_Download(found, destination, gunzip))
    return planned


async def download_all(
    storage: Storage,
    configs: Sequence[SyncConfig],
    workdir: Path,
    compression: bool,
    *,
    settings: SyncSettings | None = None,
    tracker: TransferTracker | None = None,
) -> None:
    """Every object under each prefix into its ``local_path``, in parallel.

    Keys that would land outside ``local_path`` are logged and skipped, never written.
    """
    settings = settings or SyncSettings()
    tracker = tracker or TransferTracker()
    limit = asyncio.Semaphore(settings.concurrency)

    async def run(config: SyncConfig) -> None:
        root = resolve_local_path(config.local_path, workdir)
        where = f"from {config.bucket}/{config.prefix} to {root}"
        started = time.monotonic()
        await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
        objects = await with_retries(
            lambda: storage.list(config.bucket, config.prefix), f"listing {where}", settings
        )
        planned = _plan_downloads(config, root, objects, compression)
        outcomes = await run_each(
            planned,
            lambda item: download_object(
                storage, item.found, config.bucket, item.destination, item.gunzip, settings, tracker
            ),
            limit,
        )
        failures = _failures(outcomes)
        _raise_first_unexpected(failures)
        if failures:
            raise SyncError(
                f"{len(failures)} of {len(planned)} downloads {where} failed: {failures[0]}"
            )
        _log_summary("downloaded", len(planned), sum(d.found.size for d in planned), started, where)

    await _gather_configs(configs, run, "download")


def _unverified(sent: Sequence[Uploaded], stored: list[ObjectInfo]) -> list[Uploaded]:
    """What is not in storage as we sent it: missing, another size, or another ETag."""
    by_key = {info.key: info for info in stored}
    wrong = []
    for item in sent:
        found = by_key.get(item.key)
        if (
            found is None
            or found.size != item.size
            or (item.etag is not None and found.etag is not None and found.etag != item.etag)
        ):
            wrong.append(item)
    return wrong


async def upload_all(
    storage: Storage,
    configs: Sequence[SyncConfig],
    workdir: Path,
    compression: bool,
    *,
    settings: SyncSettings | None = None,
    tracker: TransferTracker | None = None,
) -> None:
    """Every file under each ``local_path`` to its prefix, in parallel, then verified in storage.

    Raises ``SyncError`` if any object is still missing or wrong after retries and a second round.
    """
    settings = settings or SyncSettings()
    tracker = tracker or TransferTracker()
    limit = asyncio.Semaphore(settings.concurrency)

    async def run(config: SyncConfig) -> None:
        root = resolve_local_path(config.local_path, workdir)
        where = f"from {root} to {config.bucket}/{config.prefix}"
        started = time.monotonic()
        relatives = [
            relative
            for relative in await asyncio.to_thread(walk_files, root)
            if is_selected(config, relative)
        ]
        pending = {
            object_key(config, relative, compression): root / relative for relative in relatives
        }
        stored: dict[str, Uploaded] = {}
        problem = ""
        for round_ in range(UPLOAD_ROUNDS):
            outcomes = await run_each(
                pending.items(),
                lambda item: upload_file(
                    storage, item[1], config.bucket, item[0], compression, settings, tracker
                ),
                limit,
            )
            failures = _failures(outcomes)
            _raise_first_unexpected(failures)
            sent = [outcome for outcome in outcomes if isinstance(outcome, Uploaded)]
            listing = await with_retries(
                lambda: storage.list(config.bucket, config.prefix), f"listing {where}", settings
            )
            wrong = _unverified(sent, listing)
            stored.update({item.key: item for item in sent if item not in wrong})
            pending = {key: path for key, path in pending.items() if key not in stored}
            if not pending:
                break
            problem = f"{len(pending)} of {len(relatives)} uploads {where} are not in storage" + (
                f" (last error: {failures[0]})" if failures else " as sent"
            )
            logger.warning("%s after round %d of %d", problem, round_ + 1, UPLOAD_ROUNDS)
        if pending:
            raise SyncError(problem)
        _log_summary(
            "uploaded", len(stored), sum(item.size for item in stored.values()), started, where
        )

    await _gather_configs(configs, run, "upload")
