"""Entry point of the ``kelpie`` command. Each module below adds its own commands to ``app``."""

import typer

app = typer.Typer(
    name="kelpie",
    help="Shepherds long-running jobs to completion on interruptible machines.",
    no_args_is_help=True,
    add_completion=False,
)
