"""``kelpie up``: the whole platform in one terminal, until Ctrl-C."""

import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.live import Live

from kelpie.client import DEFAULT_DIR
from kelpie.client.credentials import credentials_path
from kelpie.platform.local import LocalPlatform, PlatformError
from kelpie.platform.settings import PlatformSettings
from kelpie.platform.status import render, snapshot

REFRESH_S = 1.0


def stop_on_signals() -> asyncio.Event:
    """SIGINT (Ctrl-C) and SIGTERM set the event instead of interrupting whatever runs."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


def banner(platform: LocalPlatform) -> str:
    """What a user needs to reach the platform, with the variables every command reads."""
    settings = platform.settings
    return "\n".join(
        [
            f"Kelpie is up: {settings.workers} workers on container group "
            f"{settings.container_group_id!r}, storage: {settings.describe_storage()}",
            f"  export KELPIE_API_URL={platform.api_url}",
            f"  export KELPIE_API_KEY={platform.credentials.api_key}",
            f"Credentials: {credentials_path(settings.folder)} (kelpie report finds them there); "
            f"logs: {settings.logs}. Ctrl-C stops everything.",
        ]
    )


async def run_up(settings: PlatformSettings, console: Console) -> None:
    stop = stop_on_signals()
    console.print(f"Starting the API on {settings.host}:{settings.port or 'a free port'}...")
    async with LocalPlatform(settings) as platform:
        header = banner(platform)
        console.print(header, soft_wrap=True)
        with Live(console=console, auto_refresh=False, transient=True) as live:
            while not stop.is_set():
                state = await snapshot(platform.client, platform.pool, settings.container_group_id)
                live.update(render(state, header), refresh=True)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), REFRESH_S)
        console.print("Stopping: workers first (each releases its job), then the API...")
    console.print("Stopped.")


def up(
    workers: Annotated[int, typer.Option(min=0, help="Worker processes to run.")] = 3,
    folder: Annotated[
        Path, typer.Option("--dir", help="Database, credentials, storage, logs, worker folders.")
    ] = DEFAULT_DIR,
    host: Annotated[str, typer.Option(help="Address the API listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the API (0: any free port).")] = 8000,
    container_group: Annotated[
        str, typer.Option("--container-group", help="The queue the workers take jobs from.")
    ] = "local",
    grace_period: Annotated[
        float, typer.Option(help="Seconds a stopping worker gives its job to save its state.")
    ] = 10.0,
    long_poll: Annotated[
        int, typer.Option(help="Seconds an idle worker's request for work waits.")
    ] = 5,
) -> None:
    """Run the API, storage and a pool of workers on this machine, with a live status."""
    settings = PlatformSettings(
        folder=folder,
        workers=workers,
        host=host,
        port=port,
        container_group_id=container_group,
        grace_period_s=grace_period,
        long_poll_s=long_poll,
    )
    console = Console()
    try:
        asyncio.run(run_up(settings, console))
    except PlatformError as exc:
        console.print(f"[red]kelpie up: {exc}[/red]")
        raise typer.Exit(1) from exc


def register(app: typer.Typer) -> None:
    app.command()(up)
