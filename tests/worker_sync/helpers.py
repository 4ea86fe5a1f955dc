"""Small builders shared by the sync tests."""

import gzip
from pathlib import Path

from kelpie.jobs.models import SyncConfig
from kelpie.storage import Storage
from kelpie.worker.sync import SyncSettings

FAST = SyncSettings(
    concurrency=8,
    attempts=2,
    backoff_base_s=0.01,
    backoff_max_s=0.05,
    debounce_ms=0,
    max_wait_ms=3000,
    stability_check_ms=20,
)
"""Settings that keep the tier quick: tiny backoffs and stability checks."""

TREE = {
    "top.txt": b"top level",
    "a/one.txt": b"one",
    "a/b/two.bin": bytes(range(256)) * 40,
    "a/b/c/empty": b"",
    "spaces and unicode/f\u00e9e.txt": b"fee",
}


def config(
    bucket: str, prefix: str, local_path: str, direction: str, pattern: str | None = None
) -> SyncConfig:
    return SyncConfig(
        bucket=bucket, prefix=prefix, local_path=local_path, direction=direction, pattern=pattern
    )


def write_tree(root: Path, tree: dict[str, bytes]) -> None:
    for relative, content in tree.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def read_tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


async def stored(storage: Storage, bucket: str, prefix: str, tmp: Path) -> dict[str, bytes]:
    """Every object under ``prefix`` and its content, read back through the storage."""
    found = {}
    for info in await storage.list(bucket, prefix):
        landing = tmp / "readback" / info.key
        await storage.download(bucket, info.key, landing)
        found[info.key[len(prefix) :]] = landing.read_bytes()
    return found


def gunzipped(tree: dict[str, bytes]) -> dict[str, bytes]:
    return {key.removesuffix(".gz"): gzip.decompress(value) for key, value in tree.items()}
