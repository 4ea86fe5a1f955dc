"""Entry point of the ``kelpie`` command. Each module in ``COMMANDS`` adds its own commands."""

import typer

app = typer.Typer(
    name="kelpie",
    help="Shepherds long-running jobs to completion on interruptible machines.",
    no_args_is_help=True,
    add_completion=False,
)

COMMANDS: tuple[str, ...] = ("server", "db", "users", "worker", "report", "up", "demo")
"""Modules of ``kelpie.cli`` with a ``register(app: typer.Typer) -> None`` function."""


def _register_all() -> None:
    from importlib import import_module

    for name in COMMANDS:
        import_module(f"kelpie.cli.{name}").register(app)


_register_all()
