"""``sync.before`` downloads and ``sync.after`` uploads, on S3 (moto over HTTP) and a folder."""

import asyncio
import gzip
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kelpie.storage import Storage, storage_from_env
from kelpie.worker.sync import (
    SyncError,
    TransferTracker,
    download_all,
    resolve_local_path,
    upload_all,
)
from tests.storage.fixtures import s3_client
from tests.support.processes import free_port
from tests.support.servers import S3Server
from tests.worker_sync.doubles import RecordingStorage
from tests.worker_sync.helpers import (
    FAST,
    TREE,
    config,
    gunzipped,
    read_tree,
    stored,
    write_tree,
)

pytestmark = pytest.mark.anyio


def test_relative_local_paths_are_under_the_workdir(tmp_path: Path) -> None:
    assert resolve_local_path("data/in/", tmp_path) == tmp_path / "data" / "in"
    assert resolve_local_path("/app/data", tmp_path) == Path("/app/data")


async def test_a_tree_goes_up_and_comes_back_the_same(
    storage: Storage, bucket: str, tmp_path: Path
) -> None:
    write_tree(tmp_path / "out", TREE)
    await upload_all(
        storage, [config(bucket, "job/out", "out", "upload")], tmp_path, False, settings=FAST
    )
    assert await stored(storage, bucket, "job/out/", tmp_path) == TREE

    await download_all(
        storage, [config(bucket, "job/out/", "in", "download")], tmp_path, False, settings=FAST
    )
    assert read_tree(tmp_path / "in") == TREE


async def test_several_configs_at_once_and_an_empty_prefix_still_makes_the_folder(
    storage: Storage, bucket: str, tmp_path: Path
) -> None:
    write_tree(tmp_path / "x", {"1": b"one"})
    write_tree(tmp_path / "y", {"2": b"two"})
    await upload_all(
        storage,
        [config(bucket, "p/x/", "x", "upload"), config(bucket, "p/y/", "y", "upload")],
        tmp_path,
        False,
        settings=FAST,
    )
    await download_all(
        storage,
        [config(bucket, "p/", "both", "download"), config(bucket, "none/", "empty", "download")],
        tmp_path,
        False,
        settings=FAST,
    )
    assert read_tree(tmp_path / "both") == {"x/1": b"one", "y/2": b"two"}
    assert (tmp_path / "empty").is_dir()


async def test_pattern_selects_relative_paths_both_ways(
    storage: Storage, bucket: str, tmp_path: Path
) -> None:
    write_tree(tmp_path / "out", TREE)
    await upload_all(
        storage, [config(bucket, "up/", "out", "upload", r"\.txt$")], tmp_path, False, settings=FAST
    )
    assert sorted(await stored(storage, bucket, "up/", tmp_path)) == [
        "a/one.txt",
        "spaces and unicode/f\u00e9e.txt",
        "top.txt",
    ]
    await download_all(
        storage, [config(bucket, "up/", "in", "download", r"^a/")], tmp_path, False, settings=FAST
    )
    assert read_tree(tmp_path / "in") == {"a/one.txt": b"one"}


async def test_compression_gzips_up_and_gunzips_down(
    storage: Storage, bucket: str, tmp_path: Path
) -> None:
    write_tree(tmp_path / "out", TREE)
    await upload_all(
        storage, [config(bucket, "gz/", "out", "upload")], tmp_path, True, settings=FAST
    )
    objects = await stored(storage, bucket, "gz/", tmp_path)
    assert all(key.endswith(".gz") for key in objects)
    assert gunzipped(objects) == TREE

    await download_all(
        storage, [config(bucket, "gz/", "in", "download")], tmp_path, True, settings=FAST
    )
    assert read_tree(tmp_path / "in") == TREE


async def test_compression_leaves_plain_objects_alone_and_off_keeps_gz_files(
    storage: Storage, bucket: str, tmp_path: Path
) -> None:
    write_tree(tmp_path / "src", {"plain.txt": b"plain", "packed.txt.gz": gzip.compress(b"packed")})
    await upload_all(
        storage, [config(bucket, "mix/", "src", "upload")], tmp_path, False, settings=FAST
    )
    await download_all(
        storage, [config(bucket, "mix/", "on", "download")], tmp_path, True, settings=FAST
    )
    assert read_tree(tmp_path / "on") == {"plain.txt": b"plain", "packed.txt": b"packed"}
    await download_all(
        storage, [config(bucket, "mix/", "off", "download")], tmp_path, False, settings=FAST
    )
    assert read_tree(tmp_path / "off") == read_tree(tmp_path / "src")


async def test_keys_that_would_escape_local_path_are_refused_and_nothing_is_written_outside(
    s3: S3Server, s3_storage: Storage, bucket: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client = s3_client(s3)
    hostile = [
        "job/../escape.txt",
        "job/../../escape.txt",
        "job/a/../../escape.txt",
        "job//etc/escape.txt",
        "job/..\\escape.txt",
        "job/a\\..\\..\\escape.txt",
        "job/./dot.txt",
    ]
    for key in [*hostile, "job/fine/ok.txt", "job/folder-marker/"]:
        client.put_object(Bucket=bucket, Key=key, Body=b"payload")
    workdir = tmp_path / "work"
    workdir.mkdir()
    with caplog.at_level(logging.ERROR, logger="kelpie.worker.sync"):
        await download_all(
            s3_storage, [config(bucket, "job/", "in", "download")], workdir, False, settings=FAST
        )
    assert read_tree(tmp_path) == {"work/in/fine/ok.txt": b"payload"}
    refused = [record for record in caplog.records if "not downloading" in record.getMessage()]
    assert len(refused) == len(hostile)


async def test_verification_uploads_again_what_vanished(
    s3_storage: Storage, bucket: str, tmp_path: Path
) -> None:
    recording = RecordingStorage(s3_storage, lose_once={"out/a/one.txt"})
    write_tree(tmp_path / "out", TREE)
    await upload_all(
        recording, [config(bucket, "out/", "out", "upload")], tmp_path, False, settings=FAST
    )
    assert recording.started.count("out/a/one.txt") == 2
    assert await stored(s3_storage, bucket, "out/", tmp_path) == TREE


async def test_verification_uploads_again_what_was_replaced_by_other_bytes(
    s3_storage: Storage, bucket: str, tmp_path: Path
) -> None:
    recording = RecordingStorage(s3_storage, overwrite_once={"out/a/one.txt"})
    write_tree(tmp_path / "out", TREE)
    await upload_all(
        recording, [config(bucket, "out/", "out", "upload")], tmp_path, False, settings=FAST
    )
    assert recording.started.count("out/a/one.txt") == 2
    assert await stored(s3_storage, bucket, "out/", tmp_path) == TREE


async def test_verification_fails_the_sync_when_an_object_stays_short(
    storage: Storage, bucket: str, tmp_path: Path
) -> None:
    recording = RecordingStorage(storage, truncate={"out/a/b/two.bin"})
    write_tree(tmp_path / "out", TREE)
    with pytest.raises(SyncError, match="1 of 5 uploads"):
        await upload_all(
            recording, [config(bucket, "out/", "out", "upload")], tmp_path, False, settings=FAST
        )


class _FailingS3(BaseHTTPRequestHandler):
    """An S3 endpoint that answers every request with 500, counting them."""

    protocol_version = "HTTP/1.1"  # answers "Expect: 100-continue" instead of making botocore wait

    requests = 0

    def _fail(self) -> None:
        type(self).requests += 1
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b"<Error><Code>InternalError</Code><Message>down</Message></Error>"
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _fail

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def failing_endpoint() -> Iterator[str]:
    _FailingS3.requests = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FailingS3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _s3_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }


async def test_uploads_retry_then_fail_when_s3_answers_500(
    failing_endpoint: str, tmp_path: Path
) -> None:
    storage = storage_from_env(_s3_env(failing_endpoint))
    write_tree(tmp_path / "out", {"state.json": b"{}"})
    with pytest.raises(SyncError, match="InternalError"):
        await upload_all(
            storage, [config("bkt", "p/", "out", "upload")], tmp_path, False, settings=FAST
        )
    assert _FailingS3.requests == FAST.attempts * 2  # two rounds, each with every attempt
    storage.close()


async def test_uploads_and_downloads_fail_cleanly_when_s3_refuses_connections(
    tmp_path: Path,
) -> None:
    storage = storage_from_env(_s3_env(f"http://127.0.0.1:{free_port()}"))
    write_tree(tmp_path / "out", {"f": b"x"})
    with pytest.raises(SyncError):
        await upload_all(
            storage, [config("bkt", "p/", "out", "upload")], tmp_path, False, settings=FAST
        )
    with pytest.raises(SyncError):
        await download_all(
            storage, [config("bkt", "p/", "in", "download")], tmp_path, False, settings=FAST
        )
    storage.close()


async def test_the_tracker_shows_transfers_in_flight(
    local_storage: Storage, bucket: str, tmp_path: Path
) -> None:
    gate = asyncio.Event()
    recording = RecordingStorage(local_storage, gate=gate)
    tracker = TransferTracker()
    write_tree(tmp_path / "out", {"big.bin": b"x" * 1000})
    sync = asyncio.create_task(
        upload_all(
            recording,
            [config(bucket, "p/", "out", "upload")],
            tmp_path,
            False,
            settings=FAST,
            tracker=tracker,
        )
    )
    await recording.upload_started.wait()
    [active] = tracker.snapshot()
    assert active["direction"] == "upload"
    assert active["key"] == "p/big.bin"
    assert active["size"] == 1000
    assert active["path"] == str(tmp_path / "out" / "big.bin")
    gate.set()
    await sync
    assert tracker.snapshot() == []
