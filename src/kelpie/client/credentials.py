"""The local platform's credentials file: written by ``kelpie up``, read by every other command.

It holds the admin key the API was started with and the user key the CLI acts with, so it is
created with mode 0600 and never printed whole.
"""

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "credentials.json"


@dataclass(frozen=True)
class Credentials:
    api_url: str
    api_key: str
    admin_key: str
    user_id: str
    username: str


def credentials_path(folder: Path) -> Path:
    return folder / FILE_NAME


def load_credentials(folder: Path) -> Credentials | None:
    path = credentials_path(folder)
    if not path.exists():
        return None
    return Credentials(**json.loads(path.read_text(encoding="utf-8")))


def save_credentials(folder: Path, credentials: Credentials) -> Path:
    """Writes the file readable by its owner only, atomically (a reader never sees half)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = credentials_path(folder)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(asdict(credentials), out, indent=2)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path
