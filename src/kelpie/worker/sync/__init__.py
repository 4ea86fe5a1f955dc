"""Moving a job's files between this machine and storage, as its ``sync`` section says.

``download_all`` runs ``sync.before``, ``DuringSync`` follows ``sync.during`` while the
command runs, ``upload_all`` runs ``sync.after`` and verifies it. All raise ``SyncError``.
"""

from kelpie.worker.sync.bulk import download_all, upload_all
from kelpie.worker.sync.during import DuringSync
from kelpie.worker.sync.errors import SyncError
from kelpie.worker.sync.paths import resolve_local_path
from kelpie.worker.sync.progress import TransferTracker
from kelpie.worker.sync.settings import SyncSettings

__all__ = [
    "DuringSync",
    "SyncError",
    "SyncSettings",
    "TransferTracker",
    "download_all",
    "resolve_local_path",
    "upload_all",
]
