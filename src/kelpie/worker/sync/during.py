"""``sync.during``: upload what the job writes while it runs, so an interruption loses little.

Each file has at most one task at a time, which waits for the file to settle, uploads it,
and goes round again if the file changed meanwhile: never two uploads of one file at once,
and the newest content always lands last. A removed file has its object deleted.

watchfiles tells us *when* to look; what to upload is decided from the files themselves
(inode, size, mtime), and ``flush()`` compares every file with what was last sent, so an
event the watcher missed still gets its file uploaded.
"""

import asyncio
import contextlib
import enum
import logging
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from watchfiles import awatch

from kelpie.jobs.models import SyncConfig
from kelpie.storage import Storage, StorageError
from kelpie.storage.atomic import is_partial
from kelpie.worker.sync.errors import SyncError
from kelpie.worker.sync.paths import is_selected, object_key, resolve_local_path, walk_files
from kelpie.worker.sync.progress import TransferTracker
from kelpie.worker.sync.retry import with_retries
from kelpie.worker.sync.settings import SyncSettings
from kelpie.worker.sync.transfers import upload_file

logger = logging.getLogger(__name__)

Signature = tuple[int, int, int]
"""(inode, size, mtime in ns): a file whose signature is unchanged has unchanged content."""

STABLE_CHECKS = 3
"""Equal signatures in a row, one stability interval apart, before a file counts as settled."""
WATCH_STEP_MS = 50
WATCH_GROUP_MS = 200


class _Phase(enum.Enum):
    CREATED = "created"
    WATCHING = "watching"
    ABORTED = "aborted"
    CLOSED = "closed"


def _signature(path: Path) -> Signature | None:
    """None for anything that is not a regular file now: gone, or a folder."""
    try:
        found = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)


@dataclass(frozen=True)
class _Target:
    config: SyncConfig
    root: Path


def _files_now(target: _Target) -> dict[str, Signature]:
    """The selected files under the target's folder and their signatures (blocking)."""
    found = {}
    for relative in walk_files(target.root):
        signature = _signature(target.root / relative)
        if signature is not None and is_selected(target.config, relative):
            found[relative] = signature
    return found


@dataclass(eq=False)
class _File:
    target: _Target
    relative: str
    key: str
    sent: Signature | None = None
    """What the object in storage was made from; None when there is no object of ours."""
    stored: bool = False
    first_event: float = 0.0
    last_event: float = 0.0
    task: "asyncio.Task[None] | None" = field(default=None, repr=False)

    @property
    def path(self) -> Path:
        return self.target.root / self.relative


class DuringSync:
    """Watches each ``local_path`` of ``configs`` while the job runs (an async context manager).

    Files present on entry count as already in storage. Leaving the block stops watching and
    cancels what is still going: call ``flush()`` first to keep it.
    """

    def __init__(
        self,
        storage: Storage,
        configs: list[SyncConfig],
        workdir: Path,
        compression: bool,
        settings: SyncSettings | None = None,
        tracker: TransferTracker | None = None,
    ) -> None:
        self._storage = storage
        self._targets = [
            _Target(config, resolve_local_path(config.local_path, workdir)) for config in configs
        ]
        self._compression = compression
        self._settings = settings or SyncSettings()
        self._tracker = tracker or TransferTracker()
        self._limit = asyncio.Semaphore(self._settings.concurrency)
        self._files: dict[tuple[int, str], _File] = {}
        self._failures: dict[str, str] = {}
        self._stop_watching = asyncio.Event()
        self._watcher: asyncio.Task[None] | None = None
        self._phase = _Phase.CREATED

    async def __aenter__(self) -> "DuringSync":
        if self._phase is not _Phase.CREATED:
            raise RuntimeError(f"DuringSync cannot start when {self._phase.value}")
        for index, target in enumerate(self._targets):
            await asyncio.to_thread(target.root.mkdir, parents=True, exist_ok=True)
            for relative, signature in (await asyncio.to_thread(_files_now, target)).items():
                known = self._file(index, relative)
                known.sent = signature
                known.stored = True
        self._phase = _Phase.WATCHING
        if self._targets:
            self._watcher = asyncio.create_task(self._watch(), name="kelpie-during-watch")
            await asyncio.sleep(0)  # the watcher installs its inotify watches in its first step
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._phase is _Phase.WATCHING:
            self._phase = _Phase.CLOSED
        await self._stop()

    async def flush(self) -> None:
        """Returns once every change seen so far is in storage; ``SyncError`` if some could not be.

        Files are compared with what was last sent, so nothing depends on the watcher having
        reported every change.
        """
        if self._phase is not _Phase.WATCHING:
            raise RuntimeError(f"cannot flush a DuringSync that is {self._phase.value}")
        self._failures.clear()
        for index, target in enumerate(self._targets):
            present = await asyncio.to_thread(_files_now, target)
            for relative, signature in present.items():
                known = self._files.get((index, relative))
                if known is None or not known.stored or known.sent != signature:
                    self._notice(index, relative)
            for (i, relative), known in list(self._files.items()):
                if i == index and known.stored and relative not in present:
                    self._notice(index, relative)
        while running := [f.task for f in self._files.values() if f.task is not None]:
            await asyncio.wait(running)
        if self._failures:
            raise SyncError(
                f"{len(self._failures)} files could not be synced during the run: "
                + "; ".join(f"{key}: {why}" for key, why in sorted(self._failures.items()))
            )

    async def abort(self) -> None:
        """The lease is lost: stop now, cancel uploads in flight, send nothing more.

        Returns once no transfer of ours is still writing, so a newer holder's checkpoint
        cannot be overwritten by this machine afterwards.
        """
        self._phase = _Phase.ABORTED
        await self._stop()

    async def _stop(self) -> None:
        self._stop_watching.set()
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        tasks = [f.task for f in self._files.values() if f.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _file(self, index: int, relative: str) -> _File:
        known = self._files.get((index, relative))
        if known is None:
            target = self._targets[index]
            key = object_key(target.config, relative, self._compression)
            known = self._files[(index, relative)] = _File(target, relative, key)
        return known

    def _notice(self, index: int, relative: str) -> None:
        """Something may have changed at ``relative``: make sure its file task runs."""
        if self._phase is not _Phase.WATCHING:
            return
        known = self._file(index, relative)
        now = time.monotonic()
        known.last_event = now
        if known.task is None:
            known.first_event = now
            known.task = asyncio.create_task(self._follow(known), name=f"kelpie-during {known.key}")

    async def _watch(self) -> None:
        roots = [str(target.root) for target in self._targets]
        try:
            async for changes in awatch(
                *roots,
                watch_filter=None,
                debounce=WATCH_GROUP_MS,
                step=WATCH_STEP_MS,
                stop_event=self._stop_watching,
            ):
                for _, raw in changes:
                    await self._dispatch(Path(raw))
        except Exception:
            logger.exception("watching %s failed; changes are still picked up by flush", roots)

    async def _dispatch(self, path: Path) -> None:
        """Maps a changed path to the files it concerns: a folder event concerns all below it."""
        if is_partial(path):
            return
        for index, target in enumerate(self._targets):
            if not path.is_relative_to(target.root) or path == target.root:
                continue
            relative = path.relative_to(target.root).as_posix()
            inside = await asyncio.to_thread(walk_files, path)
            below = [f"{relative}/{name}" for name in inside] + [
                known.relative
                for (i, _), known in self._files.items()
                if i == index and known.relative.startswith(relative + "/")
            ]
            below.append(relative)
            for each in below:
                if is_selected(target.config, each):
                    self._notice(index, each)

    async def _settled(self, known: _File) -> Signature | None:
        """Waits for the file to settle; its signature then (None if it is gone)."""
        settings = self._settings
        deadline = known.first_event + settings.max_wait_ms / 1000
        while (quiet := time.monotonic() - known.last_event) < settings.debounce_ms / 1000:
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(
                min(settings.debounce_ms / 1000 - quiet, deadline - time.monotonic())
            )
        last = _signature(known.path)
        same = 0
        while last is not None and same < STABLE_CHECKS and time.monotonic() < deadline:
            await asyncio.sleep(settings.stability_check_ms / 1000)
            current = _signature(known.path)
            same = same + 1 if current == last else 0
            last = current
        return last

    async def _follow(self, known: _File) -> None:
        """The one task of a file: upload or delete until storage matches the file."""
        try:
            while True:
                current = await self._settled(known)
                if current is None and known.stored:
                    await self._delete(known)
                elif current is not None and current != known.sent:
                    await self._upload(known, current)
                if _signature(known.path) == (known.sent if known.stored else None):
                    return
                known.first_event = time.monotonic()
        except (StorageError, OSError) as exc:
            logger.error(
                "could not sync %s to %s/%s: %s",
                known.path,
                known.target.config.bucket,
                known.key,
                exc,
            )
            self._failures[known.key] = str(exc)
        finally:
            known.task = None

    async def _upload(self, known: _File, signature: Signature) -> None:
        bucket = known.target.config.bucket
        async with self._limit:
            try:
                await upload_file(
                    self._storage,
                    known.path,
                    bucket,
                    known.key,
                    self._compression,
                    self._settings,
                    self._tracker,
                )
            except FileNotFoundError:
                return  # removed since it settled; the next round deletes its object
        known.sent = signature
        known.stored = True
        logger.info("uploaded %s to %s/%s", known.path, bucket, known.key)

    async def _delete(self, known: _File) -> None:
        bucket = known.target.config.bucket
        async with self._limit:
            await with_retries(
                lambda: self._storage.delete(bucket, known.key),
                f"deleting {bucket}/{known.key}",
                self._settings,
            )
        known.sent = None
        known.stored = False
        logger.info("deleted %s/%s: %s was removed", bucket, known.key, known.path)
