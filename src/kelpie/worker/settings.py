"""The worker's settings: read once from the environment (flags are merged in as variables).

Names are the original worker's where it had one, so an existing image keeps working; the
neutral ``KELPIE_*`` aliases exist for machines that are not on SaladCloud. Every value is
checked here with a message that names the variable, so a bad setting stops the worker before
it takes a job, never with a traceback.
"""

import hashlib
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from kelpie.worker.errors import SettingsError

LogFormat = Literal["text", "json"]
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
MAX_LONG_POLL_S = 60
"""The API accepts ``wait`` up to 60 s."""


@dataclass(frozen=True, kw_only=True)
class WorkerSettings:
    api_url: str
    api_key: str
    machine_id: str
    container_group_id: str
    workdir: Path
    state_file: Path
    max_time_with_no_work_s: float = 0.0
    max_job_failures: int = 5
    max_retries: int = 3
    recreate_between_jobs: bool = False
    log_level: str = "INFO"
    log_format: LogFormat = "text"
    poll_interval_s: float = 10.0
    long_poll_s: int = 30
    grace_period_s: float = 10.0
    metadata_url: str = "http://169.254.169.254"
    on_saladcloud: bool = False
    """``SALAD_MACHINE_ID`` is set: the metadata service is worth asking."""

    @property
    def data_dir(self) -> Path:
        """The worker's own files (job logs); never inside a synced folder it clears."""
        return self.workdir / ".kelpie"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "WorkerSettings":
        reader = _Reader(environ)
        workdir = Path(reader.text("KELPIE_WORKDIR") or os.getcwd()).absolute()
        state_file = reader.text("KELPIE_STATE_FILE")
        salad_machine = reader.text("SALAD_MACHINE_ID")
        return cls(
            api_url=reader.url("KELPIE_API_URL", "http://127.0.0.1:8000"),
            api_key=reader.required("KELPIE_API_KEY"),
            machine_id=salad_machine
            or reader.text("KELPIE_MACHINE_ID")
            or default_machine_id(workdir),
            container_group_id=reader.required(
                "SALAD_CONTAINER_GROUP_ID", alias="KELPIE_CONTAINER_GROUP_ID"
            ),
            workdir=workdir,
            state_file=Path(state_file).absolute()
            if state_file
            else workdir / ".kelpie" / "state.json",
            max_time_with_no_work_s=reader.number("MAX_TIME_WITH_NO_WORK_S", 0.0),
            max_job_failures=reader.integer("MAX_JOB_FAILURES", 5, minimum=1),
            max_retries=reader.integer("MAX_RETRIES", 3, minimum=0),
            recreate_between_jobs=reader.boolean("KELPIE_RECREATE_BETWEEN_JOBS"),
            log_level=reader.choice("KELPIE_LOG_LEVEL", "INFO", _LOG_LEVELS, upper=True),
            log_format=cast(
                LogFormat, reader.choice("KELPIE_LOG_FORMAT", "text", ("text", "json"))
            ),
            poll_interval_s=reader.number("KELPIE_POLL_INTERVAL_S", 10.0, positive=True),
            long_poll_s=reader.integer(
                "KELPIE_LONG_POLL_S", 30, minimum=0, maximum=MAX_LONG_POLL_S
            ),
            grace_period_s=reader.number("KELPIE_GRACE_PERIOD_S", 10.0),
            metadata_url=reader.url("KELPIE_METADATA_URL", "http://169.254.169.254"),
            on_saladcloud=bool(salad_machine),
        )


def default_machine_id(workdir: Path) -> str:
    """Stable across restarts of one worker, distinct for two workers sharing a host.

    A machine banned from a job must stay banned after a restart, so the id cannot be random.
    """
    host = socket.gethostname()
    try:
        boot_id = Path("/etc/machine-id").read_text().strip()
    except OSError:
        boot_id = ""
    digest = hashlib.sha256(f"{host}\0{boot_id}\0{workdir}".encode()).hexdigest()[:12]
    return f"{host}-{digest}"


class _Reader:
    """Reads typed values from an environment and names the variable in every complaint."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def text(self, name: str) -> str:
        return self._environ.get(name, "").strip()

    def required(self, name: str, *, alias: str | None = None) -> str:
        value = self.text(name) or (self.text(alias) if alias else "")
        if not value:
            also = f" (or {alias})" if alias else ""
            raise SettingsError(f"{name}{also} must be set")
        return value

    def url(self, name: str, default: str) -> str:
        value = self.text(name) or default
        if not value.startswith(("http://", "https://")):
            raise SettingsError(f"{name} must be an http:// or https:// URL, not {value!r}")
        return value.rstrip("/")

    def number(self, name: str, default: float, *, positive: bool = False) -> float:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number of seconds, not {raw!r}") from None
        if value < 0 or (positive and value == 0) or value != value:
            rule = "greater than 0" if positive else "0 or more"
            raise SettingsError(f"{name} must be {rule}, not {raw!r}")
        return value

    def integer(self, name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
            raise SettingsError(f"{name} must be {bounds}, not {value}")
        return value

    def boolean(self, name: str) -> bool:
        raw = self.text(name).lower()
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise SettingsError(f"{name} must be true or false, not {raw!r}")

    def choice(
        self, name: str, default: str, allowed: tuple[str, ...], *, upper: bool = False
    ) -> str:
        raw = self.text(name) or default
        value = raw.upper() if upper else raw.lower()
        if value not in allowed:
            raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}")
        return value
