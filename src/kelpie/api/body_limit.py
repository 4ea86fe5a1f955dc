"""Refuses request bodies over the limit with a JSON ``413`` before any route reads them.

A declared ``Content-Length`` over the limit is refused without a route seeing it; a body
without one (chunked) is refused as soon as it passes the limit. Bodies under the limit are
handed to the app from memory, which is where FastAPI would have put them anyway.

Before answering, the rest of a refused body is read and dropped (up to ``DRAIN_FACTOR`` times
the limit): a client that is still sending when the server closes gets a reset instead of the
``413``.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kelpie.api.errors import error_response

DRAIN_FACTOR = 16


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared_length(scope) > self.max_bytes:
            await self._refuse(scope, receive, send, more_body=True)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message], receive), send)
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, message.get("more_body", False))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, more_body: bool) -> None:
        drained = 0
        while more_body and drained < DRAIN_FACTOR * self.max_bytes:
            message = await receive()
            drained += len(message.get("body", b""))
            more_body = message["type"] == "http.request" and message.get("more_body", False)
        response = error_response(
            413, f"the request body is larger than the limit of {self.max_bytes} bytes"
        )
        await response(scope, receive, send)


def _replay(pending: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that answers the messages already read first, then the real ``receive``."""

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
