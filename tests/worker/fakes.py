"""Small real HTTP servers on loopback that stand in for services the worker talks to."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    method: str
    path: str
    body: Any


@dataclass
class FakeMetadata:
    """SaladCloud's instance metadata service, as far as the worker uses it."""

    url: str
    calls: list[Call] = field(default_factory=list)

    def deletion_costs(self) -> list[int]:
        return [c.body["deletion_cost"] for c in self.calls if c.path == "/v1/deletion-cost"]

    def posts(self, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.path == path]


def _metadata_handler(fake_calls: list[Call]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if self.headers.get("Metadata") != "true":
                self.send_response(403)
                self.end_headers()
                return
            fake_calls.append(Call(self.command, self.path, json.loads(raw) if raw else None))
            if self.command == "GET" and self.path == "/v1/status":
                body = b'{"ready": true, "started": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            known = {
                ("PUT", "/v1/deletion-cost"),
                ("POST", "/v1/reallocate"),
                ("POST", "/v1/recreate"),
            }
            self.send_response(204 if (self.command, self.path) in known else 404)
            self.end_headers()

        do_GET = do_PUT = do_POST = _answer

    return Handler


@dataclass
class ImpatientApi:
    """An API that answers ``GET /work`` with ``[]`` at once, ignoring ``wait`` (the original)."""

    url: str
    polls: list[tuple[float, str]] = field(default_factory=list)


def _impatient_handler(polls: list[tuple[float, str]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            polls.append((time.monotonic(), self.path))
            body = b"[]"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _BrokenStore(BaseHTTPRequestHandler):
    """An S3 endpoint that fails every request with a 500."""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _fail(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = b"<Error><Code>InternalError</Code><Message>broken</Message></Error>"
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _fail


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def fake_metadata() -> Iterator[FakeMetadata]:
    calls: list[Call] = []
    with _serving(_metadata_handler(calls)) as url:
        yield FakeMetadata(url, calls)


@contextmanager
def impatient_api() -> Iterator[ImpatientApi]:
    polls: list[tuple[float, str]] = []
    with _serving(_impatient_handler(polls)) as url:
        yield ImpatientApi(url, polls)


@contextmanager
def broken_store() -> Iterator[str]:
    with _serving(_BrokenStore) as url:
        yield url
