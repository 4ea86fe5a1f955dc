"""Files appear whole or not at all: written under a temporary name, then renamed."""

import itertools
import os
from collections.abc import Callable
from pathlib import Path

PART_SUFFIX = ".kelpie-part"
"""Ends the name of every file still being written; listings and walks skip such files."""

_serial = itertools.count()


def temporary_sibling(path: Path) -> Path:
    """A hidden name beside ``path``, on the same file system, so the final rename is atomic.

    Process id and a counter make it unique without a syscall for randomness per file.
    """
    return path.with_name(f".{path.name}.{os.getpid()}-{next(_serial)}{PART_SUFFIX}")


def is_partial(path: Path) -> bool:
    return path.name.endswith(PART_SUFFIX)


def write_atomically(destination: Path, write: Callable[[Path], None]) -> None:
    """``write`` fills a temporary file beside ``destination``, which is then renamed into place.

    If ``write`` raises, the temporary file is removed and ``destination`` is left as it was.
    Blocking: call it from a thread.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_sibling(destination)
    try:
        write(temporary)
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
