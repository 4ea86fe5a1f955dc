"""``kelpie report``: per job, how long it ran, what interruptions cost and where it ran."""

import asyncio
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console, JustifyMethod
from rich.table import Table

from kelpie.client import DEFAULT_DIR, ApiError, KelpieClient, NoConnection, resolve_connection
from kelpie.client.histories import History, fetch_histories
from kelpie.report import (
    InterruptionKind,
    JobReport,
    Totals,
    job_report,
    job_report_json,
    totals,
    totals_json,
)


def reports_of(histories: list[History], now: datetime) -> list[JobReport]:
    return [job_report(history.job, history.events, now) for history in histories]


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    seconds = value.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{int(minutes)}m{seconds:04.1f}s"
    hours, minutes = divmod(minutes, 60)
    return f"{int(hours)}h{int(minutes):02d}m{int(seconds):02d}s"


def format_time(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%H:%M:%S")


def report_table(reports: list[JobReport], total: Totals) -> Table:
    table = Table(
        title="Jobs (times UTC; interruptions: hard kills/graceful; failed attempts)",
        show_footer=True,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    columns = [
        ("job", f"{total.jobs} jobs"),
        ("status", ""),
        ("start", format_time(total.start)),
        ("end", format_time(total.end)),
        ("duration", format_duration(total.span)),
        ("time lost", format_duration(total.time_lost)),
        ("interrupted", f"{total.hard_interruptions}/{total.graceful_interruptions}"),
        ("machines", str(total.machines)),
        ("failed", str(total.failed_attempts)),
    ]
    for index, (header, footer) in enumerate(columns):
        justify: JustifyMethod = "left" if index < 2 else "right"
        table.add_column(header, footer, justify=justify, min_width=len(header), no_wrap=True)
    for report in reports:
        hard = report.count(InterruptionKind.HARD)
        graceful = report.count(InterruptionKind.GRACEFUL)
        table.add_row(
            report.job_id[:8],
            report.status,
            format_time(report.start),
            format_time(report.end),
            format_duration(report.duration),
            format_duration(report.time_lost),
            f"{hard}/{graceful}",
            str(len(report.machines)),
            str(report.failed_attempts),
        )
    return table


def report_json(reports: list[JobReport]) -> str:
    body = {
        "jobs": [job_report_json(report) for report in reports],
        "total": totals_json(totals(reports)),
    }
    return json.dumps(body, indent=2)


async def _collect(
    api_url: str | None,
    api_key: str | None,
    folder: Path,
    job_ids: list[str],
    container_group: str | None,
) -> list[JobReport]:
    connection = resolve_connection(api_url, api_key, folder, os.environ)
    async with KelpieClient(connection.api_url, connection.api_key) as client:
        histories = await fetch_histories(client, job_ids, container_group)
    return reports_of(histories, datetime.now(UTC))


def report(
    job_ids: Annotated[
        list[str] | None, typer.Argument(help="Jobs to report on (default: all).")
    ] = None,
    container_group: Annotated[
        str | None, typer.Option("--container-group", help="Only this container group's jobs.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
    api_url: Annotated[
        str | None, typer.Option(help="Default: KELPIE_API_URL, or --dir's file.")
    ] = None,
    api_key: Annotated[
        str | None, typer.Option(help="Default: KELPIE_API_KEY, or --dir's file.")
    ] = None,
    folder: Annotated[
        Path, typer.Option("--dir", help="The local platform's folder (`kelpie up --dir`).")
    ] = DEFAULT_DIR,
) -> None:
    """Per job: start, end, duration, time lost to interruptions, machines, failed attempts."""
    try:
        reports = asyncio.run(_collect(api_url, api_key, folder, job_ids or [], container_group))
    except (NoConnection, ApiError) as exc:
        typer.echo(f"kelpie report: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(report_json(reports))
    else:
        Console().print(report_table(reports, totals(reports)))


def register(app: typer.Typer) -> None:
    app.command()(report)
