"""One line per event, with the job id whenever there is a job.

The job id lives in a context variable, so every task spawned for a job (heartbeats, the
command's output, uploads) carries it without passing it around; a filter copies it onto each
record for the formatters.
"""

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from kelpie.jobs import format_timestamp
from kelpie.worker.settings import LogFormat

OUTPUT_LOGGER = "kelpie.job.output"
"""The job command's own output: to stdout, marked ``OUT`` (text) or ``"stream": "job"``."""

current_job_id: ContextVar[str | None] = ContextVar("kelpie_job_id", default=None)


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    token = current_job_id.set(job_id)
    try:
        yield
    finally:
        current_job_id.reset(token)


class JobIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = current_job_id.get()
        return True


def _timestamp(record: logging.LogRecord) -> str:
    return format_timestamp(datetime.fromtimestamp(record.created, UTC))


class TextFormatter(logging.Formatter):
    """``2024-10-20T14:08:33.000Z INFO job=<id> message``; the command's lines say ``OUT``."""

    def format(self, record: logging.LogRecord) -> str:
        job_id = getattr(record, "job_id", None)
        job = f" job={job_id}" if job_id else ""
        level = "OUT" if record.name == OUTPUT_LOGGER else record.levelname
        line = f"{_timestamp(record)} {level}{job} {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        job_id = getattr(record, "job_id", None)
        if job_id:
            entry["job_id"] = job_id
        if record.name == OUTPUT_LOGGER:
            entry["stream"] = "job"
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _handler(stream: TextIO, log_format: LogFormat) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.addFilter(JobIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def configure_logging(
    level: str,
    log_format: LogFormat,
    events: TextIO = sys.stderr,
    output: TextIO = sys.stdout,
) -> None:
    """The worker's events go to ``events``; the command's output lines to ``output``."""
    root = logging.getLogger("kelpie")
    root.handlers[:] = [_handler(events, log_format)]
    root.setLevel(level)
    root.propagate = False
    command_output = logging.getLogger(OUTPUT_LOGGER)
    command_output.handlers[:] = [_handler(output, log_format)]
    command_output.setLevel(logging.INFO)
    command_output.propagate = False
