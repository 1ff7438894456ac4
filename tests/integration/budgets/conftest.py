"""Budget tests: services with a fake key wrapper, a local webhook receiver, helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.key_wrapper import FakeKeyWrapper
from tests.support import LiveServer, http_server, installed_services
from tollgate.wiring import Services


@pytest.fixture
def services(db_url: str, tmp_path: Path) -> Iterator[Services]:
    with installed_services(db_url, tmp_path) as built:
        built.key_wrapper = FakeKeyWrapper()
        built.alert_delivery._sleep = lambda _s: None  # no real backoff waits in tests
        yield built


@dataclass
class Receiver:
    url: str
    status: int = 200
    hits: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 recording body and headers of every POST."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.hits.append({"body": body, "headers": {k.lower(): v for k, v in self.headers.items()}})
            self.send_response(state.status)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return None

    with http_server(Handler) as base:
        state.url = f"{base}/hook"
        yield state


def api(server: LiveServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"authorization": f"Bearer {key}"}, timeout=30)


def budget_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "team",
        "scope": "workspace",
        "period": "monthly",
        "timezone": "UTC",
        "limit_usd": "10",
        "action": "block",
    }
    body.update(overrides)
    return body
