"""``kelpie db upgrade``: create or migrate the schema without starting the server."""

import asyncio

import typer

from kelpie.cli.database import fail, load_settings

db = typer.Typer(help="Manage the database named by KELPIE_DATABASE_URL.")


@db.command("upgrade")
def upgrade() -> None:
    """Bring the schema to this version of Kelpie (the server also does it on start)."""
    from kelpie.store.migrate import upgrade as upgrade_schema  # loads only when used

    settings = load_settings()
    try:
        asyncio.run(upgrade_schema(settings.database_url))
    except Exception as exc:  # shown to the operator as a message, not a traceback
        fail(f"cannot upgrade {settings.safe_database_url}: {exc}")
    typer.echo(f"{settings.safe_database_url} is up to date")


def register(app: typer.Typer) -> None:
    app.add_typer(db, name="db")
