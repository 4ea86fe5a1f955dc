"""Gzip on the way up, gunzip on the way down, and the MD5 that S3 shows as a single-part ETag."""

import gzip
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kelpie.storage.atomic import write_atomically
from kelpie.worker.sync.paths import GZIP_SUFFIX

_CHUNK = 1024 * 1024
GZIP_LEVEL = 6
"""zlib's own default: most of level 9's ratio at several times its speed."""
MD5_LIMIT = 64 * 1024 * 1024
"""Files up to this size get their MD5 checked against the store's ETag after upload."""


@dataclass(frozen=True)
class PreparedUpload:
    """What goes to storage for one file: its bytes (maybe a gzip copy) and what to verify."""

    source: Path
    size: int
    md5: str | None
    temporary: bool


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as reader:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def prepare_upload(path: Path, compression: bool) -> PreparedUpload:
    """The file itself, or a gzip copy in the temp folder (never in a watched folder).

    The gzip header carries no name and no time, so equal content gives an equal object.
    """
    if not compression:
        size = path.stat().st_size
        return PreparedUpload(path, size, file_md5(path) if size <= MD5_LIMIT else None, False)
    handle, name = tempfile.mkstemp(prefix="kelpie-", suffix=GZIP_SUFFIX)
    compressed = Path(name)
    try:
        with (
            os.fdopen(handle, "wb") as raw,
            path.open("rb") as reader,
            gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, compresslevel=GZIP_LEVEL, mtime=0
            ) as writer,
        ):
            shutil.copyfileobj(reader, writer, _CHUNK)
        size = compressed.stat().st_size
        return PreparedUpload(
            compressed, size, file_md5(compressed) if size <= MD5_LIMIT else None, True
        )
    except BaseException:
        compressed.unlink(missing_ok=True)
        raise


def gunzip_into(compressed: Path, destination: Path) -> None:
    """Decompresses ``compressed`` to ``destination``, which appears whole or not at all."""

    def write(temporary: Path) -> None:
        with gzip.open(compressed, "rb") as reader, temporary.open("wb") as writer:
            shutil.copyfileobj(reader, writer, _CHUNK)

    write_atomically(destination, write)
