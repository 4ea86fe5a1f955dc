"""Users and their tokens."""

import pytest

from kelpie.store import JobStore, UserRecord
from kelpie.store.errors import Conflict, Invalid, NotFound
from kelpie.store.jobs import hash_token
from kelpie.store.schema import NAME_LENGTH, tokens
from tests.store.factories import submission

pytestmark = pytest.mark.anyio


async def test_a_token_finds_its_user(store: JobStore, user: UserRecord) -> None:
    token = await store.create_token(user.id, "org", "project")

    assert await store.user_for_token(token) == user
    assert await store.user_for_token(token + "x") is None
    assert await store.get_user(user.id) == user
    assert user.created.tzinfo is not None


async def test_tokens_are_stored_only_as_hashes(
    store: JobStore, user: UserRecord, database_url: str
) -> None:
    token = await store.create_token(user.id, None, None)

    async with store._engines.reader.connect() as connection:
        stored = (await connection.execute(tokens.select())).mappings().all()

    assert hash_token(token) in {row["hash"] for row in stored}
    assert all(token not in str(dict(row)) for row in stored)


async def test_a_username_is_taken_once(store: JobStore, user: UserRecord) -> None:
    with pytest.raises(Conflict):
        await store.create_user(user.username)


async def test_no_token_for_a_missing_user(store: JobStore) -> None:
    with pytest.raises(NotFound):
        await store.create_token("no-such-user", None, None)
    assert await store.get_user("no-such-user") is None


async def test_names_longer_than_the_columns_are_invalid(store: JobStore, user: UserRecord) -> None:
    too_long = "x" * (NAME_LENGTH + 1)

    with pytest.raises(Invalid):
        await store.create_user(too_long)
    with pytest.raises(Invalid):
        await store.create_token(user.id, too_long, None)
    with pytest.raises(Invalid):
        await store.submit(user.id, [submission(too_long)])
    with pytest.raises(Invalid):
        await store.claim(user.id, "group", too_long)
