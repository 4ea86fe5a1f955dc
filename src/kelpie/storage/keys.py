"""Turning object keys into local paths without ever leaving the folder they belong in.

The original worker joined keys to ``local_path`` unchecked, so a key holding ``../`` wrote
anywhere on the machine. Every key that becomes a path goes through ``path_for_key``.
"""

from pathlib import Path

from kelpie.storage.base import StorageError

_FORBIDDEN_PARTS = {"", ".", ".."}


class UnsafeKeyError(StorageError):
    """A key that would name a path outside its folder (or no file at all)."""


def path_for_key(root: Path, relative_key: str) -> Path:
    """``root`` joined with ``relative_key``, refusing any key that could escape ``root``.

    Refused: absolute keys, ``.``/``..``/empty segments, backslashes (a separator elsewhere)
    and NUL bytes. The joined path is also resolved, so a symlink inside ``root`` cannot lead out.
    """
    if (
        relative_key.startswith("/")
        or "\\" in relative_key
        or "\x00" in relative_key
        or any(part in _FORBIDDEN_PARTS for part in relative_key.split("/"))
    ):
        raise UnsafeKeyError(f"refusing key {relative_key!r}: it would leave its folder")
    candidate = root.joinpath(*relative_key.split("/"))
    if not candidate.resolve().is_relative_to(root.resolve()):
        raise UnsafeKeyError(f"refusing key {relative_key!r}: it resolves outside its folder")
    return candidate
