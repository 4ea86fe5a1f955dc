"""Object storage for job files: S3 (and S3-compatible stores) or a local folder.

Exceptions::

    StorageError            any failed storage operation (botocore/OS errors translated)
     └── UnsafeKeyError     a key that would land outside its folder
"""

from kelpie.storage.base import ObjectInfo, ProgressCallback, Storage, StorageError
from kelpie.storage.factory import storage_from_env
from kelpie.storage.keys import UnsafeKeyError, path_for_key
from kelpie.storage.local import LocalStorage
from kelpie.storage.s3 import S3Storage
from kelpie.storage.settings import S3Settings

__all__ = [
    "LocalStorage",
    "ObjectInfo",
    "ProgressCallback",
    "S3Settings",
    "S3Storage",
    "Storage",
    "StorageError",
    "UnsafeKeyError",
    "path_for_key",
    "storage_from_env",
]
