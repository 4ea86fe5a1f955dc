"""Refuses request bodies over the limit with a JSON ``413`` before any route reads them.

A declared ``Content-Length`` over the limit is refused at once; a body without one (chunked)
is read up to the limit and refused as soon as it passes it. Bodies under the limit are
handed to the app from memory, which is where FastAPI would have put them anyway.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kelpie.api.errors import error_response


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared_length(scope) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([], message, receive), send)
                return
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], None, receive), send)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, f"the request body is larger than the limit of {self.max_bytes} bytes"
        )
        await response(scope, receive, send)


def _replay(first: list[Message], then: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that answers the buffered messages first, then the real ``receive``."""
    pending = [*first, *([then] if then else [])]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
