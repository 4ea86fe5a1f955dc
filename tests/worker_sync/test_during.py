"""``sync.during``: what the job writes while it runs follows it into storage."""

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from kelpie.storage import Storage, StorageError
from kelpie.worker.sync import DuringSync, SyncError
from tests.worker_sync.doubles import RecordingStorage
from tests.worker_sync.helpers import FAST, config, gunzipped, stored, write_tree

pytestmark = pytest.mark.anyio


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 5.0) -> None:
    """Polls ``check`` until it holds, or fails the test."""
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _during(storage: Storage, bucket: str, tmp_path: Path, **changes: int) -> DuringSync:
    settings = dataclasses.replace(FAST, **changes)
    return DuringSync(
        storage, [config(bucket, "state/", "state", "upload")], tmp_path, False, settings
    )


async def test_created_changed_and_removed_files_are_followed(
    s3_storage: Storage, bucket: str, tmp_path: Path
) -> None:
    state = tmp_path / "state"

    async def objects() -> dict[str, bytes]:
        return await stored(s3_storage, bucket, "state/", tmp_path)

    async def objects_are(expected: dict[str, bytes]) -> bool:
        try:
            return await objects() == expected
        except StorageError:
            return False  # an object went between listing and reading it: look again

    async with _during(s3_storage, bucket, tmp_path) as during:
        _write(state / "a.txt", b"v1")
        await eventually(lambda: objects_are({"a.txt": b"v1"}))
        _write(state / "a.txt", b"version two")
        _write(state / "deep" / "er" / "b.txt", b"b")
        await eventually(lambda: objects_are({"a.txt": b"version two", "deep/er/b.txt": b"b"}))
        (state / "a.txt").unlink()
        await eventually(lambda: objects_are({"deep/er/b.txt": b"b"}))
        await during.flush()
    assert await objects() == {"deep/er/b.txt": b"b"}


async def test_files_present_at_the_start_count_as_stored(
    local_storage: Storage, bucket: str, tmp_path: Path
) -> None:
    write_tree(tmp_path / "state", {"old.txt": b"from the last machine"})
    recording = RecordingStorage(local_storage)
    async with _during(recording, bucket, tmp_path) as during:
        await during.flush()
    assert recording.started == []


async def test_a_file_written_slowly_is_uploaded_once_when_stable(
    local_storage: Storage, bucket: str, tmp_path: Path
) -> None:
    recording = RecordingStorage(local_storage)
    path = tmp_path / "state" / "checkpoint.bin"
    async with _during(
        recording, bucket, tmp_path, stability_check_ms=150, max_wait_ms=30_000
    ) as during:
        with path.open("wb") as writer:
            for chunk in range(20):
                writer.write(bytes([chunk]) * 1000)
                writer.flush()
                await asyncio.sleep(0.02)
        await during.flush()
    final = path.read_bytes()
    assert recording.contents_of("state/checkpoint.bin") == [final]


async def test_a_file_that_keeps_changing_goes_up_after_max_wait_one_upload_at_a_time(
    local_storage: Storage, bucket: str, tmp_path: Path
) -> None:
    recording = RecordingStorage(local_storage, upload_delay_s=0.1)
    path = tmp_path / "state" / "log.txt"
    async with _during(recording, bucket, tmp_path, max_wait_ms=200) as during:
        for line in range(60):
            with path.open("a") as writer:
                writer.write(f"line {line}\n")
            await asyncio.sleep(0.02)
        await during.flush()
    uploads = recording.contents_of("state/log.txt")
    assert len(uploads) >= 2
    assert uploads[-1] == path.read_bytes()
    assert recording.most_in_flight["state/log.txt"] == 1
    assert await stored(local_storage, bucket, "state/", tmp_path) == {"log.txt": path.read_bytes()}


async def test_flush_waits_for_uploads_still_going(
    s3_storage: Storage, bucket: str, tmp_path: Path
) -> None:
    recording = RecordingStorage(s3_storage, upload_delay_s=0.3)
    async with _during(recording, bucket, tmp_path) as during:
        _write(tmp_path / "state" / "late.txt", b"just in time")
        await during.flush()
        assert await stored(s3_storage, bucket, "state/", tmp_path) == {"late.txt": b"just in time"}


async def test_abort_cancels_uploads_in_flight_and_sends_nothing_more(
    s3_storage: Storage, bucket: str, tmp_path: Path
) -> None:
    recording = RecordingStorage(s3_storage, gate=asyncio.Event())
    async with _during(recording, bucket, tmp_path) as during:
        _write(tmp_path / "state" / "a.txt", b"stale")
        await recording.upload_started.wait()
        await during.abort()
        assert recording.cancelled == ["state/a.txt"]
        recording.gate = None
        _write(tmp_path / "state" / "a.txt", b"staler")
        _write(tmp_path / "state" / "b.txt", b"new")
        await asyncio.sleep(0.5)
    assert recording.started == ["state/a.txt"]
    assert await s3_storage.list(bucket, "state/") == []


async def test_leaving_without_flush_cancels_what_is_still_going(
    local_storage: Storage, bucket: str, tmp_path: Path
) -> None:
    recording = RecordingStorage(local_storage, gate=asyncio.Event())
    async with _during(recording, bucket, tmp_path):
        _write(tmp_path / "state" / "a.txt", b"unsent")
        await recording.upload_started.wait()
    assert recording.cancelled == ["state/a.txt"]


async def test_flush_reports_files_that_could_not_be_uploaded_and_tries_them_again(
    local_storage: Storage, bucket: str, tmp_path: Path
) -> None:
    recording = RecordingStorage(local_storage, refuse={"state/a.txt"})
    async with _during(recording, bucket, tmp_path) as during:
        _write(tmp_path / "state" / "a.txt", b"important")
        with pytest.raises(SyncError, match=r"state/a\.txt"):
            await during.flush()
        recording.refuse.clear()
        await during.flush()
    assert recording.contents_of("state/a.txt") == [b"important"]


async def test_pattern_and_compression_apply_while_watching(
    local_storage: Storage, bucket: str, tmp_path: Path
) -> None:
    watched = config(bucket, "ckpt/", "state", "upload", pattern=r"\.json$")
    async with DuringSync(local_storage, [watched], tmp_path, True, FAST) as during:
        _write(tmp_path / "state" / "keep.json", b'{"step": 3}')
        _write(tmp_path / "state" / "skip.tmp", b"scratch")
        await during.flush()
    objects = await stored(local_storage, bucket, "ckpt/", tmp_path)
    assert gunzipped(objects) == {"keep.json": b'{"step": 3}'}
