"""Refuses text that no database can store: NUL characters and unpaired surrogates.

JSON may carry both (``"\\u0000"``, ``"\\ud800"``) and Python strings hold them, but
PostgreSQL rejects NUL in text and no UTF-8 encoder takes a lone surrogate, so they would
fail deep in the store. Checked once at the edge, for the body, the query and the path, they
are a ``422`` naming the field instead.
"""

import json
from collections.abc import Iterator
from typing import Any

from fastapi import Request

from kelpie.api.errors import ApiError

RULE = "must not contain NUL characters or unpaired surrogates"


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            yield child, key
            yield from _strings(item, child)


async def _json_body(request: Request) -> Any:
    if "json" not in request.headers.get("content-type", ""):
        return None
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return None  # FastAPI reports the malformed body itself


async def reject_unstorable_text(request: Request) -> None:
    sources = [
        _strings(dict(request.path_params), ""),
        _strings(dict(request.query_params.multi_items()), ""),
        _strings(await _json_body(request), ""),
    ]
    for strings in sources:
        for field, text in strings:
            if not _storable(text):
                raise ApiError(422, f"{field or 'body'}: text {RULE}")
