"""The token cache forgets on time and on size, and never holds a token in the clear."""

import time
from datetime import UTC, datetime

from kelpie.api.token_cache import TokenCache
from kelpie.store.records import UserRecord


def _user(name: str) -> UserRecord:
    return UserRecord(id=f"id-{name}", username=name, created=datetime.now(UTC))


def test_remembers_until_the_time_limit() -> None:
    cache = TokenCache(ttl=0.05)
    user = _user("a")
    cache.put("token-a", user)
    assert cache.get("token-a") == user
    assert cache.get("token-b") is None
    time.sleep(0.06)
    assert cache.get("token-a") is None


def test_forgets_the_least_recently_added_when_full() -> None:
    cache = TokenCache(max_entries=2)
    for name in ("a", "b", "c"):
        cache.put(f"token-{name}", _user(name))
    assert cache.get("token-a") is None
    remembered = [cache.get(f"token-{name}") for name in ("b", "c")]
    assert [user.username for user in remembered if user] == ["b", "c"]


def test_tokens_are_kept_by_digest() -> None:
    cache = TokenCache()
    cache.put("secret-token", _user("a"))
    assert "secret-token" not in repr(cache.__dict__)
