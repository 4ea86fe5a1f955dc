"""The typed API client and the connection settings the CLI reads."""

from kelpie.client.api import ApiError, KelpieClient
from kelpie.client.connection import DEFAULT_DIR, Connection, NoConnection, resolve_connection
from kelpie.client.credentials import Credentials, load_credentials, save_credentials

__all__ = [
    "DEFAULT_DIR",
    "ApiError",
    "Connection",
    "Credentials",
    "KelpieClient",
    "NoConnection",
    "load_credentials",
    "resolve_connection",
    "save_credentials",
]
