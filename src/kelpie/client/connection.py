"""Where the CLI finds the API and its key: flags, then environment, then ``kelpie up``'s file."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kelpie.client.credentials import credentials_path, load_credentials

DEFAULT_DIR = Path(".kelpie")


class NoConnection(Exception):
    """Neither flags, environment nor a local platform say where the API is."""


@dataclass(frozen=True)
class Connection:
    api_url: str
    api_key: str


def resolve_connection(
    api_url: str | None,
    api_key: str | None,
    folder: Path,
    environ: Mapping[str, str],
) -> Connection:
    """Each value from the first source that has it, so a flag can override one value only."""
    saved = load_credentials(folder)
    url = api_url or environ.get("KELPIE_API_URL") or (saved.api_url if saved else None)
    key = api_key or environ.get("KELPIE_API_KEY") or (saved.api_key if saved else None)
    if not url or not key:
        missing = " and ".join(
            name for name, value in (("API URL", url), ("API key", key)) if not value
        )
        raise NoConnection(
            f"no {missing}: pass --api-url/--api-key, set KELPIE_API_URL/KELPIE_API_KEY, "
            f"or start the local platform with `kelpie up` ({credentials_path(folder)})"
        )
    return Connection(api_url=url.rstrip("/"), api_key=key)
