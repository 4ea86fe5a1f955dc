"""Who is asking: a user by their token, or the admin by ``KELPIE_ADMIN_KEY``.

The admin key is compared in constant time; user tokens are looked up by their hash in the
store, and remembered for a minute (``token_cache``). A wrong key gets ``401`` whichever kind
of key it was meant to be.
"""

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from kelpie.api.errors import ApiError
from kelpie.api.state import Store, app_state
from kelpie.store.records import UserRecord

KEY_HEADER = "X-Kelpie-Key"

_key_header = APIKeyHeader(name=KEY_HEADER, auto_error=False, description="Your Kelpie API key")

Key = Annotated[str | None, Depends(_key_header)]


async def current_user(request: Request, key: Key, jobs: Store) -> UserRecord:
    if not key:
        raise ApiError(401, f"missing {KEY_HEADER} header")
    tokens = app_state(request).tokens
    user = tokens.get(key)
    if user is None:
        user = await jobs.user_for_token(key)
        if user is None:
            raise ApiError(401, f"unknown {KEY_HEADER}")
        tokens.put(key, user)
    return user


async def require_admin(request: Request, key: Key) -> None:
    admin_key = app_state(request).settings.admin_key
    if admin_key is None:
        raise ApiError(
            403,
            "admin endpoints are disabled: start the server with KELPIE_ADMIN_KEY set "
            "(or use `kelpie users create NAME` on the server's machine)",
        )
    if not key:
        raise ApiError(401, f"missing {KEY_HEADER} header")
    if not hmac.compare_digest(key.encode(), admin_key.encode()):
        raise ApiError(401, f"this endpoint needs the admin key in {KEY_HEADER}")


CurrentUser = Annotated[UserRecord, Depends(current_user)]
