"""Gzip on the way up, gunzip on the way down."""

import gzip
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


@dataclass(frozen=True)
class PreparedUpload:
    """What goes to storage for one file: the file itself or a gzip copy of it."""

    source: Path
    size: int
    temporary: bool


def prepare_upload(path: Path, compression: bool) -> PreparedUpload:
    """The file itself, or a gzip copy in the temp folder (never in a watched folder).

    The gzip header carries no name and no time, so equal content gives an equal object.
    """
    if not compression:
        return PreparedUpload(path, path.stat().st_size, False)
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
        return PreparedUpload(compressed, compressed.stat().st_size, True)
    except BaseException:
        compressed.unlink(missing_ok=True)
        raise


def gunzip_into(compressed: Path, destination: Path) -> None:
    """Decompresses ``compressed`` to ``destination``, which appears whole or not at all."""

    def write(temporary: Path) -> None:
        with gzip.open(compressed, "rb") as reader, temporary.open("wb") as writer:
            shutil.copyfileobj(reader, writer, _CHUNK)

    write_atomically(destination, write)
