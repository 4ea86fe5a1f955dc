"""The API server's settings: one frozen object, read from the environment, overridden by flags."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./kelpie.db"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_LOG_LEVEL = "info"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_POLL_INTERVAL = 0.25
DEFAULT_SHUTDOWN_TIMEOUT = 30


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message names the variable."""


def _number(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name)
    if text is None or text == "":
        return default
    try:
        return float(text)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {text!r}") from None


def _flag(environ: Mapping[str, str], name: str) -> bool:
    text = environ.get(name, "").strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise SettingsError(f"{name} must be true or false, not {text!r}")


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    admin_key: str | None = None
    """``None`` disables the admin endpoints (they answer 403 saying how to set it)."""
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    log_level: str = DEFAULT_LOG_LEVEL
    access_log: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    poll_interval: float = DEFAULT_POLL_INTERVAL
    """How often a waiting long poll asks the database whether work appeared that nobody
    announced (a stale holder's job, or a submit through another process on SQLite)."""
    shutdown_timeout: int = DEFAULT_SHUTDOWN_TIMEOUT
    """How long a SIGTERM waits for requests in flight before cancelling them."""

    def __post_init__(self) -> None:
        try:
            make_url(self.database_url)
        except ArgumentError:
            raise SettingsError(
                f"KELPIE_DATABASE_URL is not a database URL: {self.database_url!r}"
            ) from None
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"KELPIE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        if not 0 < self.port < 65536:
            raise SettingsError(f"KELPIE_PORT (--port) must be 1 to 65535, not {self.port}")
        if self.max_body_bytes < 1:
            raise SettingsError("KELPIE_MAX_BODY_BYTES must be at least 1")
        if self.poll_interval <= 0:
            raise SettingsError("KELPIE_POLL_INTERVAL must be greater than 0")
        if self.shutdown_timeout < 0:
            raise SettingsError("KELPIE_SHUTDOWN_TIMEOUT must not be negative")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("KELPIE_DATABASE_URL") or DEFAULT_DATABASE_URL,
            admin_key=env.get("KELPIE_ADMIN_KEY") or None,
            host=env.get("KELPIE_HOST") or DEFAULT_HOST,
            port=int(_number(env, "KELPIE_PORT", DEFAULT_PORT)),
            log_level=(env.get("KELPIE_LOG_LEVEL") or DEFAULT_LOG_LEVEL).lower(),
            access_log=_flag(env, "KELPIE_ACCESS_LOG"),
            max_body_bytes=int(_number(env, "KELPIE_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)),
            poll_interval=_number(env, "KELPIE_POLL_INTERVAL", DEFAULT_POLL_INTERVAL),
            shutdown_timeout=int(_number(env, "KELPIE_SHUTDOWN_TIMEOUT", DEFAULT_SHUTDOWN_TIMEOUT)),
        )

    @property
    def safe_database_url(self) -> str:
        """The database URL with its password hidden, for logs and error messages."""
        return make_url(self.database_url).render_as_string(hide_password=True)
