"""A tiny provider-shaped HTTP server on 127.0.0.1: ``GET /v1/models`` accepts one key (for credential tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

from tests.support import http_server


class UpstreamState:
    def __init__(self, accepted_key: str) -> None:
        self.accepted_key = accepted_key
        self.seen_authorization: list[str] = []


@contextmanager
def fake_upstream(accepted_key: str) -> Iterator[tuple[str, UpstreamState]]:
    state = UpstreamState(accepted_key)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            auth = self.headers.get("authorization", "")
            state.seen_authorization.append(auth)
            known = self.path == "/v1/models"
            ok = known and auth == f"Bearer {state.accepted_key}"
            status = 200 if ok else (401 if known else 404)
            body = b'{"object": "list", "data": []}' if ok else b'{"error": {"message": "Incorrect API key"}}'
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            return None

    with http_server(Handler) as base:
        yield f"{base}/v1", state
