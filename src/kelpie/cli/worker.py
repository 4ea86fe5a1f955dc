"""``kelpie worker``: the agent that runs in every container and works through the queue."""

import asyncio
import os
from pathlib import Path

import typer

from kelpie.worker.errors import SettingsError
from kelpie.worker.exit_codes import ExitCode


def _flags_as_environment(**flags: object) -> dict[str, str]:
    """Given flags, as the environment variables they stand for (flags win over the env)."""
    environment: dict[str, str] = {}
    for name, value in flags.items():
        if value is None:
            continue
        if isinstance(value, bool):
            environment[name] = "true" if value else "false"
        else:
            environment[name] = str(value)
    return environment


def worker(
    api_url: str | None = typer.Option(None, help="KELPIE_API_URL: the coordination API."),
    machine_id: str | None = typer.Option(
        None, help="KELPIE_MACHINE_ID: this worker's identity (default: stable per host+folder)."
    ),
    container_group_id: str | None = typer.Option(
        None, help="KELPIE_CONTAINER_GROUP_ID: the queue to take work from."
    ),
    workdir: Path | None = typer.Option(
        None, help="KELPIE_WORKDIR: the worker's working folder (default: the current one)."
    ),
    state_file: Path | None = typer.Option(None, help="KELPIE_STATE_FILE: the state as JSON."),
    poll_interval: float | None = typer.Option(
        None, help="KELPIE_POLL_INTERVAL_S: pause between polls when the API has no long poll."
    ),
    long_poll: int | None = typer.Option(
        None, help="KELPIE_LONG_POLL_S: how long one poll may wait for work (0-60, 0 = off)."
    ),
    grace_period: float | None = typer.Option(
        None, help="KELPIE_GRACE_PERIOD_S: how long a stopped command may take to save its work."
    ),
    max_time_with_no_work: float | None = typer.Option(
        None, help="MAX_TIME_WITH_NO_WORK_S: leave after this long without work (0 = never)."
    ),
    max_job_failures: int | None = typer.Option(
        None, help="MAX_JOB_FAILURES: leave this machine after this many failed jobs."
    ),
    recreate_between_jobs: bool | None = typer.Option(
        None,
        "--recreate-between-jobs/--no-recreate-between-jobs",
        help="KELPIE_RECREATE_BETWEEN_JOBS: a fresh container for every job.",
    ),
    log_level: str | None = typer.Option(None, help="KELPIE_LOG_LEVEL: DEBUG, INFO, WARNING..."),
    log_format: str | None = typer.Option(None, help="KELPIE_LOG_FORMAT: text or json."),
    metadata_url: str | None = typer.Option(
        None, help="KELPIE_METADATA_URL: SaladCloud's instance metadata service."
    ),
) -> None:
    """Take jobs from the API and run each to completion, through interruptions.

    Every flag has an environment variable (named in its help); the API key is read only from
    KELPIE_API_KEY, so it never shows in a process list. See docs/worker.md.
    """
    from kelpie.worker.agent import run_worker
    from kelpie.worker.logs import configure_logging
    from kelpie.worker.settings import WorkerSettings

    environ = {
        **os.environ,
        **_flags_as_environment(
            KELPIE_API_URL=api_url,
            KELPIE_MACHINE_ID=machine_id,
            KELPIE_CONTAINER_GROUP_ID=container_group_id,
            KELPIE_WORKDIR=workdir,
            KELPIE_STATE_FILE=state_file,
            KELPIE_POLL_INTERVAL_S=poll_interval,
            KELPIE_LONG_POLL_S=long_poll,
            KELPIE_GRACE_PERIOD_S=grace_period,
            MAX_TIME_WITH_NO_WORK_S=max_time_with_no_work,
            MAX_JOB_FAILURES=max_job_failures,
            KELPIE_RECREATE_BETWEEN_JOBS=recreate_between_jobs,
            KELPIE_LOG_LEVEL=log_level,
            KELPIE_LOG_FORMAT=log_format,
            KELPIE_METADATA_URL=metadata_url,
        ),
    }
    if machine_id is not None:
        environ.pop("SALAD_MACHINE_ID", None)
    if container_group_id is not None:
        environ.pop("SALAD_CONTAINER_GROUP_ID", None)
    try:
        settings = WorkerSettings.from_env(environ)
        configure_logging(settings.log_level, settings.log_format)
        code = asyncio.run(run_worker(settings, environ))
    except SettingsError as exc:
        typer.echo(f"kelpie worker: {exc}", err=True)
        raise typer.Exit(ExitCode.BAD_SETTINGS) from None
    raise typer.Exit(int(code))


def register(app: typer.Typer) -> None:
    app.command(name="worker")(worker)
