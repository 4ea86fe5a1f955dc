"""A ``Storage`` that wraps a real backend and records or disturbs what goes through it.

It implements our own small interface, so no boto3 internals are patched: the objects still
go to moto or to a folder, and the tests see each upload as it happened.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kelpie.storage import ObjectInfo, ProgressCallback, Storage, StorageError


@dataclass
class RecordingStorage:
    inner: Storage
    upload_delay_s: float = 0.0
    gate: asyncio.Event | None = None
    """If set, uploads wait for it (to hold them in flight while a test looks)."""
    truncate: set[str] = field(default_factory=set)
    """Keys whose uploads silently store only half the file, as a faulty store might."""
    lose_once: set[str] = field(default_factory=set)
    """Keys whose first upload silently vanishes."""
    overwrite_once: set[str] = field(default_factory=set)
    """Keys whose first upload is replaced at once by other bytes of the same size."""
    refuse: set[str] = field(default_factory=set)
    """Keys whose uploads fail, as if the store answered errors."""
    uploads: list[tuple[str, bytes]] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    upload_started: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: dict[str, int] = field(default_factory=dict)
    most_in_flight: dict[str, int] = field(default_factory=dict)

    async def list(self, bucket: str, prefix: str) -> list[ObjectInfo]:
        return await self.inner.list(bucket, prefix)

    async def download(
        self,
        bucket: str,
        key: str,
        destination: Path,
        *,
        size: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        await self.inner.download(bucket, key, destination, size=size, progress=progress)

    async def upload(
        self, source: Path, bucket: str, key: str, *, progress: ProgressCallback | None = None
    ) -> ObjectInfo:
        self.started.append(key)
        self.upload_started.set()
        self.in_flight[key] = self.in_flight.get(key, 0) + 1
        self.most_in_flight[key] = max(self.most_in_flight.get(key, 0), self.in_flight[key])
        try:
            content = await asyncio.to_thread(source.read_bytes)
            await asyncio.sleep(self.upload_delay_s)
            if self.gate is not None:
                await self.gate.wait()
            if key in self.refuse:
                raise StorageError(f"refusing {key}")
            if key in self.truncate:
                with tempfile.TemporaryDirectory() as folder:
                    half = Path(folder, "half")
                    await asyncio.to_thread(half.write_bytes, content[: len(content) // 2])
                    stored = await self.inner.upload(half, bucket, key)
            else:
                stored = await self.inner.upload(source, bucket, key, progress=progress)
            if key in self.lose_once:
                self.lose_once.discard(key)
                await self.inner.delete(bucket, key)
            if key in self.overwrite_once:
                self.overwrite_once.discard(key)
                with tempfile.TemporaryDirectory() as folder:
                    other = Path(folder, "other")
                    await asyncio.to_thread(other.write_bytes, bytes(255 - b for b in content))
                    await self.inner.upload(other, bucket, key)
            self.uploads.append((key, content))
            return stored
        except asyncio.CancelledError:
            self.cancelled.append(key)
            raise
        finally:
            self.in_flight[key] -= 1

    async def head(self, bucket: str, key: str) -> ObjectInfo | None:
        return await self.inner.head(bucket, key)

    async def delete(self, bucket: str, key: str) -> None:
        await self.inner.delete(bucket, key)

    def close(self) -> None:
        self.inner.close()

    def contents_of(self, key: str) -> list[bytes]:
        return [content for uploaded, content in self.uploads if uploaded == key]
