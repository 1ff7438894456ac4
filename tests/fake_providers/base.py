"""A scripted HTTP server on 127.0.0.1 that the provider fakes build on.

Each fake answers with a default reply derived from the request (``default``) unless replies were
queued with ``push``; every request is recorded (method, path, query, headers, JSON body) so tests
can assert what the gateway sent. Streams use chunked transfer encoding, so a scripted mid-stream
reset (``reset_after``) is a real protocol error on the client side.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    events: list[str] | None = None  # raw pieces of a streamed body (already framed: SSE or NDJSON lines)
    content_type: str = "text/event-stream"
    delay_s: float = 0.0  # before the status line
    event_delay_s: float = 0.0  # between streamed pieces
    reset_after: int | None = None  # drop the connection after this many pieces


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any

    @property
    def raw_target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")


class FakeProvider:
    """``check`` (the provider's request rules, ``rules.py``) runs on every request first, queued
    replies included: a request the real API refuses gets the real refusal, whatever was scripted."""

    def __init__(
        self, default: Callable[[Recorded], Reply], check: Callable[[Recorded], Reply | None] | None = None
    ) -> None:
        self._default = default
        self._check = check
        self.queue: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def push(self, *replies: Reply) -> None:
        self.queue.extend(replies)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _next_reply(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            refusal = self._check(recorded) if self._check else None
            if refusal is not None:
                return refusal
            if self.queue:
                return self.queue.popleft()
        return self._default(recorded)

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                recorded = Recorded(
                    method=self.command,
                    path=parts.path,
                    query=parts.query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=json.loads(raw) if raw else None,
                )
                reply = fake._next_reply(recorded)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    if reply.events is None:
                        self._send_body(reply)
                    else:
                        self._send_stream(reply)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _send_body(self, reply: Reply) -> None:
                payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def _send_stream(self, reply: Reply) -> None:
                self.send_response(reply.status)
                self.send_header("content-type", reply.content_type)
                self.send_header("transfer-encoding", "chunked")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                for index, piece in enumerate(reply.events or []):
                    if reply.reset_after is not None and index >= reply.reset_after:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    data = piece.encode()
                    self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
                    if reply.event_delay_s:
                        time.sleep(reply.event_delay_s)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def running(fake: FakeProvider) -> Iterator[FakeProvider]:
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def sse(data: Any, event: str | None = None) -> str:
    """One SSE event (``event:`` line optional), terminated by a blank line."""
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return (f"event: {event}\n" if event else "") + f"data: {text}\n\n"


def wants_stream(request: Recorded) -> bool:
    return bool(isinstance(request.body, dict) and request.body.get("stream"))


def has_tools(request: Recorded) -> bool:
    return bool(isinstance(request.body, dict) and request.body.get("tools"))
