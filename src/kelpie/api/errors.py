"""Every error the API answers is JSON ``{"error": code, "message": text, ...}``.

Store errors, validation errors, unknown routes and real bugs each become one such answer, so
no input produces an HTML page or a bare ``500``.
"""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from kelpie.store.errors import Conflict, Invalid, NotFound, Unavailable

logger = logging.getLogger("kelpie.api")

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid_request",
    503: "unavailable",
}


class ApiError(Exception):
    """An answer decided by our own code (auth, ownership), raised from anywhere in a request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str, **extra: Any) -> JSONResponse:
    code = _HTTP_CODES.get(status, "error")
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def _field_name(loc: Sequence[int | str]) -> str:
    """``("body", 0, "sync", "before", 1, "direction")`` -> ``[0].sync.before[1].direction``."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else list(loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "body"


def _describe(error: dict[str, Any]) -> dict[str, str]:
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    return {
        "field": _field_name(error.get("loc", ())),
        "rule": str(error["type"]),
        "message": message,
    }


def validation_response(errors: Sequence[Any]) -> JSONResponse:
    """400 when the body is not JSON at all, 422 naming each field and rule otherwise."""
    if any(error.get("type") == "json_invalid" for error in errors):
        detail = next(error for error in errors if error.get("type") == "json_invalid")
        reason = detail.get("ctx", {}).get("error", "malformed JSON")
        return error_response(400, f"the body is not valid JSON: {reason}")
    fields = [_describe(error) for error in errors]
    message = "; ".join(f"{item['field']}: {item['message']}" for item in fields)
    return error_response(422, message, fields=fields)


def install_error_handlers(app: FastAPI) -> None:
    """Registers the handlers that turn every kind of failure into the error shape."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_response(exc.errors())

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(ApiError)
    async def _ours(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return error_response(404, str(exc) or "not found")

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return error_response(409, str(exc) or "the job cannot change that way now")

    @app.exception_handler(Invalid)
    async def _invalid_value(_: Request, exc: Invalid) -> JSONResponse:
        return error_response(422, str(exc) or "a value is too large for the database")

    @app.exception_handler(Unavailable)
    async def _unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        logger.warning("database unavailable: %s", exc)
        return error_response(503, "the database is not answering; try again shortly")

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return error_response(500, "internal error; it has been logged")
