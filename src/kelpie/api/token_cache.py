"""Remembers which user a token belongs to for a short while, to spare the database a query
on every request (a worker sends several per job: take, heartbeats, report).

Tokens cannot be revoked through the API and users are never deleted, so a remembered answer
cannot go wrong; the time limit bounds how long it would if revocation is added. Unknown
tokens are never remembered, so a token made by another process works at once.
"""

import hashlib
import time
from collections import OrderedDict

from kelpie.store.records import UserRecord

TTL_SECONDS = 60.0
MAX_ENTRIES = 10_000


class TokenCache:
    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._users: OrderedDict[str, tuple[float, UserRecord]] = OrderedDict()

    @staticmethod
    def _key(token: str) -> str:
        """Kept by digest, so the process's memory holds no usable token."""
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> UserRecord | None:
        key = self._key(token)
        entry = self._users.get(key)
        if entry is None:
            return None
        expires, user = entry
        if expires < time.monotonic():
            del self._users[key]
            return None
        return user

    def put(self, token: str, user: UserRecord) -> None:
        key = self._key(token)
        self._users[key] = (time.monotonic() + self._ttl, user)
        self._users.move_to_end(key)
        while len(self._users) > self._max_entries:
            self._users.popitem(last=False)
