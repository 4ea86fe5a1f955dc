"""Where a sync config's files live on this machine, and which of them it covers."""

import os
import re
from pathlib import Path

from kelpie.jobs.models import SyncConfig
from kelpie.storage.atomic import is_partial

GZIP_SUFFIX = ".gz"


def resolve_local_path(local_path: str, workdir: Path) -> Path:
    """Relative paths are under the worker's own folder, so several workers can share a machine."""
    path = Path(local_path)
    return path if path.is_absolute() else workdir / path


def is_selected(config: SyncConfig, relative: str) -> bool:
    """``pattern`` is searched (not anchored) in the path relative to ``local_path``."""
    return config.pattern is None or re.search(config.pattern, relative) is not None


def object_key(config: SyncConfig, relative: str, compression: bool) -> str:
    return config.prefix + relative + (GZIP_SUFFIX if compression else "")


def walk_files(root: Path) -> list[str]:
    """Relative POSIX paths of the files under ``root``, sorted; half-written downloads skipped.

    Symlinks to files are followed (their content is what the job produced); symlinks to
    folders are not, so a link loop cannot make a walk endless.
    """
    found = []
    for directory, _, names in os.walk(root):
        for name in names:
            path = Path(directory, name)
            if path.is_file() and not is_partial(path):
                found.append(path.relative_to(root).as_posix())
    return sorted(found)
