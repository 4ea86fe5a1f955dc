"""Which folders a job syncs, and clearing them between jobs.

A job names its folders with ``sync``, or (the legacy form) with input, checkpoint and output
bucket/prefix pairs. Both become one ``SyncPlan``. Legacy jobs get three folders under the
worker's working folder, named to the command by ``INPUT_DIR``, ``CHECKPOINT_DIR`` and
``OUTPUT_DIR``: the input and the checkpoint are downloaded before the run, the checkpoint is
uploaded while it runs, the output after it succeeds.
"""

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kelpie.jobs import Job, SyncConfig
from kelpie.worker.sync import resolve_local_path

logger = logging.getLogger("kelpie.worker.folders")

LEGACY_FOLDERS = {"INPUT_DIR": "input", "CHECKPOINT_DIR": "checkpoint", "OUTPUT_DIR": "output"}


@dataclass(frozen=True)
class SyncPlan:
    before: list[SyncConfig] = field(default_factory=list)
    during: list[SyncConfig] = field(default_factory=list)
    after: list[SyncConfig] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    """Variables the command needs to find its folders (legacy jobs only)."""

    def folders(self, workdir: Path) -> list[Path]:
        """Every local folder of the plan, once each, in order of first mention."""
        seen: dict[Path, None] = {}
        for config in [*self.before, *self.during, *self.after]:
            seen.setdefault(resolve_local_path(config.local_path, workdir), None)
        return list(seen)


def _config(bucket: str, prefix: str, local_path: Path, direction: str) -> SyncConfig:
    return SyncConfig.model_validate(
        {"bucket": bucket, "prefix": prefix, "local_path": str(local_path), "direction": direction}
    )


def plan_for(job: Job, workdir: Path) -> SyncPlan:
    if job.sync is not None:
        return SyncPlan(
            before=list(job.sync.before), during=list(job.sync.during), after=list(job.sync.after)
        )
    if not (job.input_bucket and job.checkpoint_bucket and job.output_bucket):
        return SyncPlan()
    paths = {name: workdir / folder for name, folder in LEGACY_FOLDERS.items()}
    checkpoint = _config(
        job.checkpoint_bucket, job.checkpoint_prefix or "", paths["CHECKPOINT_DIR"], "download"
    )
    return SyncPlan(
        before=[
            _config(job.input_bucket, job.input_prefix or "", paths["INPUT_DIR"], "download"),
            checkpoint,
        ],
        during=[checkpoint.model_copy(update={"direction": "upload"})],
        after=[_config(job.output_bucket, job.output_prefix or "", paths["OUTPUT_DIR"], "upload")],
        environment={name: str(path) for name, path in paths.items()},
    )


def clear_folders(folders: list[Path], keep: list[Path]) -> None:
    """Empties each folder (creating it if missing), so no job sees another job's files.

    A folder that holds one of ``keep`` (the worker's own files) or is the file system root is
    left alone with a warning: a job must not be able to make the worker delete itself.
    """
    for folder in folders:
        resolved = folder.resolve()
        if resolved == Path(resolved.anchor) or any(
            path.resolve().is_relative_to(resolved) for path in keep
        ):
            logger.warning("not clearing %s: it holds the worker's own files", folder)
            continue
        if resolved.is_dir():
            for entry in resolved.iterdir():
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink(missing_ok=True)
        elif resolved.exists():
            resolved.unlink()
        resolved.mkdir(parents=True, exist_ok=True)
