"""``kelpie demo``: the seed's workload on a local platform, with ``--chaos`` under fire."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.text import Text

from kelpie.cli.report import report_table
from kelpie.platform.chaos import Chaos, ChaosSettings
from kelpie.platform.demo import DemoResult, DemoSettings, run_demo
from kelpie.platform.local import PlatformError
from kelpie.platform.status import Snapshot, render
from kelpie.report import InterruptionKind, totals

DEFAULTS = DemoSettings()


def chaos_line(chaos: Chaos | None) -> Text:
    if chaos is None:
        return Text("no chaos (add --chaos to interrupt workers while the jobs run)", style="dim")
    hard = chaos.count(InterruptionKind.HARD)
    graceful = chaos.count(InterruptionKind.GRACEFUL)
    return Text(f"chaos: {hard} hard kills, {graceful} graceful interruptions", style="bold red")


async def run_with_status(settings: DemoSettings, console: Console) -> DemoResult:
    header = f"Demo: {settings.jobs} series-sum jobs on {settings.workers} workers"
    with Live(console=console, auto_refresh=False, transient=True) as live:

        def observe(state: Snapshot, chaos: Chaos | None) -> None:
            live.update(Group(render(state, header), chaos_line(chaos)), refresh=True)

        return await run_demo(settings, observe)


def print_result(result: DemoResult, console: Console) -> None:
    console.print(report_table(result.reports, totals(result.reports)))
    for job in result.jobs:
        output = (result.outputs[job.id] or "nothing").strip()
        console.print(f"{job.name} ({job.id[:8]}): sum of {job.start}..{job.end} = {output}")
    if result.strikes:
        hard = sum(1 for strike in result.strikes if strike.kind is InterruptionKind.HARD)
        console.print(
            f"chaos: {len(result.strikes)} interruptions "
            f"({hard} hard kills, {len(result.strikes) - hard} graceful)"
        )
    if result.ok:
        console.print(
            "[green]All checks passed: every output exact, never two holders at once, "
            "every interrupted job resumed.[/green]"
        )
    for problem in result.problems:
        console.print(f"[red]FAILED: {problem}[/red]")


def demo(
    jobs: Annotated[int, typer.Option(min=1, help="Jobs to run.")] = DEFAULTS.jobs,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = DEFAULTS.workers,
    chaos: Annotated[
        bool, typer.Option(help="Interrupt workers at random while jobs run.")
    ] = False,
    folder: Annotated[
        Path, typer.Option("--dir", help="The demo platform's own folder.")
    ] = DEFAULTS.folder,
    steps: Annotated[
        int, typer.Option(min=1, help="Integers the longest job sums.")
    ] = DEFAULTS.steps,
    step_time: Annotated[
        float, typer.Option(help="Seconds of busy work per integer.")
    ] = DEFAULTS.step_time_s,
    save_interval: Annotated[
        float, typer.Option(help="Seconds between checkpoints.")
    ] = DEFAULTS.save_interval_s,
    heartbeat_interval: Annotated[
        int, typer.Option(min=1, help="The jobs' heartbeat interval, in seconds.")
    ] = DEFAULTS.heartbeat_interval,
    seed: Annotated[int | None, typer.Option(help="Seed of the chaos, to replay a run.")] = None,
) -> None:
    """Run series-sum jobs on a local platform, check every sum, print the report."""
    settings = DemoSettings(
        folder=folder,
        jobs=jobs,
        workers=workers,
        steps=steps,
        step_time_s=step_time,
        save_interval_s=save_interval,
        heartbeat_interval=heartbeat_interval,
        chaos=ChaosSettings(seed=seed) if chaos else None,
    )
    console = Console()
    try:
        result = asyncio.run(run_with_status(settings, console))
    except PlatformError as exc:
        console.print(f"[red]kelpie demo: {exc}[/red]")
        raise typer.Exit(2) from exc
    print_result(result, console)
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(demo)
