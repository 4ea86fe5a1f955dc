"""Choosing the backend from the environment."""

from collections.abc import Mapping
from pathlib import Path

from kelpie.storage.base import Storage
from kelpie.storage.local import LocalStorage
from kelpie.storage.s3 import S3Storage
from kelpie.storage.settings import S3Settings


def storage_from_env(environ: Mapping[str, str]) -> Storage:
    """``KELPIE_STORAGE_DIR`` selects a local folder; otherwise S3 with the AWS variables."""
    directory = environ.get("KELPIE_STORAGE_DIR")
    if directory:
        return LocalStorage(Path(directory))
    return S3Storage.from_settings(S3Settings.from_env(environ))
