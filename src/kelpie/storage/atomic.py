"""Files appear whole or not at all: written under a temporary name, then renamed."""

import secrets
from pathlib import Path

PART_SUFFIX = ".kelpie-part"
"""Ends the name of every file still being written; listings and walks skip such files."""


def temporary_sibling(path: Path) -> Path:
    """A hidden name beside ``path``, on the same file system, so the final rename is atomic."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{PART_SUFFIX}")


def is_partial(path: Path) -> bool:
    return path.name.endswith(PART_SUFFIX)
