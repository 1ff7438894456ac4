"""Small local servers for the browser tests: an OpenAI-compatible /v1/models and a webhook sink."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.support import http_server


@dataclass
class Recorded:
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    rejected_keys: set[str] = field(default_factory=set)


@contextmanager
def fake_provider(rejected_keys: set[str] | None = None) -> Iterator[tuple[str, Recorded]]:
    """GET /v1/models answers {"object": "list", "data": []}, or 401 for a rejected key.
    Any POST is recorded (webhook deliveries) and answered 200."""
    recorded = Recorded(rejected_keys=rejected_keys or set())

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, status: int, payload: object) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            recorded.requests.append(("GET", self.path, dict(self.headers), b""))
            auth = self.headers.get("authorization", "")
            if any(auth.endswith(key) for key in recorded.rejected_keys):
                self._reply(
                    401,
                    {
                        "error": {
                            "message": "Incorrect API key provided",
                            "type": "invalid_request_error",
                            "code": "invalid_api_key",
                        }
                    },
                )
            elif self.path.rstrip("/").endswith("/models"):
                self._reply(200, {"object": "list", "data": []})
            else:
                self._reply(404, {"error": {"message": "not found"}})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            recorded.requests.append(("POST", self.path, dict(self.headers), self.rfile.read(length)))
            self._reply(200, {"ok": True})

        def log_message(self, format: str, *args: object) -> None:
            return

    with http_server(Handler) as base:
        yield base, recorded
