"""Refuses values that a database cannot store, the same way on both backends.

JSON may carry NUL characters and unpaired surrogates (``"\\u0000"``, ``"\\ud800"``) and
integers of any size, and Python holds them all; but PostgreSQL rejects NUL in text, no UTF-8
encoder takes a lone surrogate, and the counters are 32-bit columns (SQLite would overflow at
64 bits instead). Checked once at the edge, for the body, the query and the path, each is a
``422`` naming the field rather than a failure deep in the store.
"""

import json
from collections.abc import Iterator
from typing import Any

from fastapi import Request

from kelpie.api.errors import ApiError
from kelpie.jobs.models import INT32_MAX as INT_LIMIT

TEXT_RULE = "text must not contain NUL characters or unpaired surrogates"
INT_RULE = f"integer must be between {-INT_LIMIT - 1} and {INT_LIMIT}"


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _problem(value: Any) -> str | None:
    if isinstance(value, str) and not _storable(value):
        return TEXT_RULE
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT_LIMIT:
        return INT_RULE
    return None


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every string, number and key in a JSON value, with the path that names it."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, key
            yield from _leaves(item, child)
    else:
        yield path, value


async def _json_body(request: Request) -> Any:
    if "json" not in request.headers.get("content-type", ""):
        return None
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None  # FastAPI reports the malformed body itself


async def reject_unstorable_values(request: Request) -> None:
    sources = [
        _leaves(dict(request.path_params), ""),
        _leaves(dict(request.query_params.multi_items()), ""),
        _leaves(await _json_body(request), ""),
    ]
    for leaves in sources:
        for field, value in leaves:
            problem = _problem(value)
            if problem is not None:
                raise ApiError(422, f"{field or 'body'}: {problem}")
