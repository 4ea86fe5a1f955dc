"""What the commands that touch the database share: settings, opening the store, failing."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TypeVar

import typer
from sqlalchemy.engine import make_url

from kelpie.api.settings import Settings, SettingsError

if TYPE_CHECKING:
    from kelpie.store.jobs import JobStore

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    """A clear message on stderr and exit status 1, never a traceback."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def load_settings(**flags: object) -> Settings:
    """The environment's settings, with each flag that was given winning over it."""
    try:
        settings = Settings.from_env()
        given = {name: value for name, value in flags.items() if value is not None}
        settings = Settings(**{**settings.__dict__, **given}) if given else settings
    except SettingsError as exc:
        fail(str(exc))
    _check_sqlite_folder(settings)
    return settings


def _check_sqlite_folder(settings: Settings) -> None:
    """SQLite creates its file but not the folder; say so before the driver says it obscurely."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        folder = Path(url.database).parent
        if not folder.is_dir():
            fail(f"the folder {folder} of the SQLite database does not exist")


async def open_store(settings: Settings) -> "JobStore":
    from kelpie.store.jobs import JobStore  # the store loads only for commands that use it

    try:
        return await JobStore.open(settings.database_url)
    except Exception as exc:  # any failure here is the operator's to fix, shown as a message
        fail(f"cannot open the database {settings.safe_database_url}: {exc}")


def run_with_store(settings: Settings, action: Callable[["JobStore"], Awaitable[T]]) -> T:
    """Opens the store, runs ``action`` on it and closes it, all in one event loop."""

    async def run() -> T:
        store = await open_store(settings)
        try:
            return await action(store)
        finally:
            await store.close()

    return asyncio.run(run())
