"""Both backends behave the same through the ``Storage`` interface."""

import asyncio
import os
from pathlib import Path

import pytest

from kelpie.storage import (
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
    UnsafeKeyError,
    storage_from_env,
)
from tests.storage.fixtures import s3_client
from tests.support.processes import free_port
from tests.support.servers import S3Server

pytestmark = pytest.mark.anyio


def _names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


async def test_upload_list_download_delete(storage: Storage, bucket: str, tmp_path: Path) -> None:
    first = _write(tmp_path / "one", b"first object")
    second = _write(tmp_path / "two", os.urandom(3000))
    sent = await storage.upload(first, bucket, "job/a/one.txt")
    assert (sent.key, sent.size) == ("job/a/one.txt", 12)
    await storage.upload(second, bucket, "job/two.bin")
    await storage.upload(first, bucket, "other/one.txt")

    listed = await storage.list(bucket, "job/")
    assert [(info.key, info.size) for info in listed] == [
        ("job/a/one.txt", 12),
        ("job/two.bin", 3000),
    ]

    destination = tmp_path / "down" / "nested" / "two.bin"
    await storage.download(bucket, "job/two.bin", destination)
    assert destination.read_bytes() == second.read_bytes()
    assert [p.name for p in destination.parent.iterdir()] == ["two.bin"]

    head = await storage.head(bucket, "job/two.bin")
    assert head is not None
    assert head.size == 3000
    await storage.delete(bucket, "job/two.bin")
    assert await storage.head(bucket, "job/two.bin") is None
    await storage.delete(bucket, "job/two.bin")


async def test_a_prefix_is_a_string_prefix_not_only_a_folder(
    storage: Storage, bucket: str, tmp_path: Path
) -> None:
    source = _write(tmp_path / "f", b"x")
    for key in ("data/run-1/a", "data/run-10/b", "data/run-2/c"):
        await storage.upload(source, bucket, key)
    assert [info.key for info in await storage.list(bucket, "data/run-1")] == [
        "data/run-1/a",
        "data/run-10/b",
    ]
    assert await storage.list(bucket, "nothing/") == []


async def test_a_missing_object_is_a_storage_error(
    storage: Storage, bucket: str, tmp_path: Path
) -> None:
    with pytest.raises(StorageError):
        await storage.download(bucket, "no/such/key", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert _names(tmp_path) in ([], ["store"])


async def test_local_storage_keeps_objects_inside_its_folder(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    source = _write(tmp_path / "f", b"x")
    for bucket, key in [("bkt", "../escape"), ("bkt", "/abs"), ("..", "escape"), ("a/b", "k")]:
        with pytest.raises(StorageError):
            await storage.upload(source, bucket, key)
    with pytest.raises(UnsafeKeyError):
        await storage.download("bkt", "../../f", tmp_path / "copy")
    assert _names(tmp_path) == ["f"]


async def test_s3_paginates_listings_past_one_page(
    s3: S3Server, s3_storage: Storage, bucket: str
) -> None:
    client = s3_client(s3)
    keys = [f"many/{index:04d}" for index in range(1005)]
    await asyncio.gather(
        *(asyncio.to_thread(client.put_object, Bucket=bucket, Key=key, Body=b"") for key in keys)
    )
    assert [info.key for info in await s3_storage.list(bucket, "many/")] == keys


async def test_cancelling_an_upload_stops_it_and_leaves_no_object(
    s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    s3_client(s3).create_bucket(Bucket=bucket)
    storage = storage_from_env(
        {**s3.env, "KELPIE_S3_PART_SIZE_MB": "5", "KELPIE_S3_MAX_CONNECTIONS": "2"}
    )
    source = _write(tmp_path / "big", os.urandom(64 * 1024 * 1024))
    started = asyncio.Event()
    loop = asyncio.get_running_loop()
    upload = asyncio.create_task(
        storage.upload(
            source, bucket, "big", progress=lambda _: loop.call_soon_threadsafe(started.set)
        )
    )
    await started.wait()
    upload.cancel()
    with pytest.raises(asyncio.CancelledError):
        await upload
    assert await storage.head(bucket, "big") is None
    assert "Uploads" not in s3_client(s3).list_multipart_uploads(Bucket=bucket)
    storage.close()


async def test_large_objects_download_in_parallel_ranges(
    s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    s3_client(s3).create_bucket(Bucket=bucket)
    storage = storage_from_env({**s3.env, "KELPIE_S3_DOWNLOAD_RANGE_MB": "1"})
    source = _write(tmp_path / "big", os.urandom(3 * 1024 * 1024 + 12345))
    await storage.upload(source, bucket, "big")
    moved: list[int] = []
    await storage.download(
        bucket, "big", tmp_path / "known", size=source.stat().st_size, progress=moved.append
    )
    await storage.download(bucket, "big", tmp_path / "unknown")
    assert (tmp_path / "known").read_bytes() == source.read_bytes()
    assert (tmp_path / "unknown").read_bytes() == source.read_bytes()
    assert sum(moved) == source.stat().st_size
    storage.close()


async def test_cancelling_a_download_leaves_nothing_behind(
    s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    s3_client(s3).create_bucket(Bucket=bucket)
    storage = storage_from_env({**s3.env, "KELPIE_S3_DOWNLOAD_RANGE_MB": "1"})
    await storage.upload(
        _write(tmp_path / "src" / "big", os.urandom(32 * 1024 * 1024)), bucket, "big"
    )
    started = asyncio.Event()
    loop = asyncio.get_running_loop()
    download = asyncio.create_task(
        storage.download(
            bucket,
            "big",
            tmp_path / "down" / "big",
            progress=lambda _: loop.call_soon_threadsafe(started.set),
        )
    )
    await started.wait()
    download.cancel()
    with pytest.raises(asyncio.CancelledError):
        await download
    assert _names(tmp_path / "down") == []
    storage.close()


def test_the_environment_chooses_the_backend(s3: S3Server, tmp_path: Path) -> None:
    local = storage_from_env({"KELPIE_STORAGE_DIR": str(tmp_path)})
    remote = storage_from_env(s3.env)
    assert isinstance(local, LocalStorage)
    assert isinstance(remote, S3Storage)
    remote.close()


@pytest.mark.parametrize(
    "name", ["KELPIE_S3_PART_SIZE_MB", "KELPIE_S3_DOWNLOAD_RANGE_MB", "KELPIE_S3_MAX_CONNECTIONS"]
)
def test_a_bad_setting_names_its_variable(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        storage_from_env({name: "lots"})


async def test_an_unreachable_store_is_a_storage_error(tmp_path: Path) -> None:
    storage = storage_from_env(
        {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "1",
        }
    )
    with pytest.raises(StorageError, match="bkt/key"):
        await storage.upload(_write(tmp_path / "f", b"x"), "bkt", "key")
    with pytest.raises(StorageError):
        await storage.list("bkt", "")
    storage.close()
