"""Tuning of the sync engine, read once from the environment."""

from collections.abc import Mapping
from dataclasses import dataclass

from kelpie.storage.settings import read_int


@dataclass(frozen=True, kw_only=True)
class SyncSettings:
    """``concurrency`` files move at once; each transfer is tried ``attempts`` times.

    The watch settings keep the original worker's meaning: ``debounce_ms`` of quiet after a
    file's last event, then its size must stay the same over three checks
    ``stability_check_ms`` apart; ``max_wait_ms`` after its first event it goes anyway (and
    goes again later if it was still changing).
    """

    concurrency: int = 32
    attempts: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    debounce_ms: int = 0
    max_wait_ms: int = 5000
    stability_check_ms: int = 50

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "SyncSettings":
        return cls(
            concurrency=read_int(environ, "KELPIE_TRANSFER_CONCURRENCY", cls.concurrency),
            attempts=read_int(environ, "KELPIE_TRANSFER_ATTEMPTS", cls.attempts),
            debounce_ms=read_int(environ, "FILE_WATCHER_DEBOUNCE_MS", cls.debounce_ms, 0),
            max_wait_ms=read_int(environ, "FILE_WATCHER_MAX_WAIT_MS", cls.max_wait_ms, 0),
            stability_check_ms=read_int(
                environ, "FILE_WATCHER_STABILITY_CHECK_MS", cls.stability_check_ms
            ),
        )
