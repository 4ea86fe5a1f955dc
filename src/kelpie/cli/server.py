"""``kelpie server``: the coordination API."""

import asyncio
import logging
from typing import Annotated

import typer

from kelpie.api.settings import DEFAULT_HOST, DEFAULT_PORT
from kelpie.cli.database import load_settings, run_with_store


def server(
    host: Annotated[
        str | None,
        typer.Option(help=f"Address to listen on (env KELPIE_HOST, default {DEFAULT_HOST})"),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help=f"Port to listen on (env KELPIE_PORT, default {DEFAULT_PORT})"),
    ] = None,
) -> None:
    """Run the API. The database schema is created or migrated before it listens."""
    from kelpie.api.server import serve  # FastAPI and uvicorn load only for this command

    settings = load_settings(host=host, port=port)
    _use_uvloop()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    run_with_store(settings, lambda store: serve(settings, store))


def _use_uvloop() -> None:
    """uvloop's event loop where it is installed (``uvicorn[standard]``): the server's own
    loop, since it runs ``uvicorn.Server`` inside it rather than through ``uvicorn.run``."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def register(app: typer.Typer) -> None:
    app.command("server")(server)
