"""``kelpie users create NAME``: a user and a token, straight in the database."""

from typing import TYPE_CHECKING, Annotated

import typer

from kelpie.cli.database import fail, load_settings, run_with_store

if TYPE_CHECKING:
    from kelpie.store.jobs import JobStore
    from kelpie.store.records import UserRecord

users = typer.Typer(help="Manage users (works on the database directly, no server needed).")


@users.command("create")
def create(name: Annotated[str, typer.Argument(help="The new user's name")]) -> None:
    """Create a user and print its id and a new API token (shown only this once)."""
    from kelpie.store.errors import Conflict  # the store loads only when a command uses it

    if not name.strip():
        fail("the username must not be empty")

    async def create_with_token(store: "JobStore") -> tuple["UserRecord", str]:
        user = await store.create_user(name)
        return user, await store.create_token(user.id, None, None)

    try:
        user, token = run_with_store(load_settings(), create_with_token)
    except Conflict:
        fail(f"the username {name!r} is taken")
    typer.echo(f"id: {user.id}")
    typer.echo(f"token: {token}")


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="users")
