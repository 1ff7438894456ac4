"""A local HTTP server for price feeds (the committed feed files, or documents built by a test)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support import make_services
from tollgate.alerts.queue import InProcessAlertQueue
from tollgate.wiring import Services


def _number(value: Any) -> Any:
    """Decimals go out as JSON numbers (their float repr round-trips to the same decimal text)."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


class FeedServer:
    def __init__(self) -> None:
        self.documents: dict[str, bytes] = {}
        self.hits: list[str] = []
        documents, hits = self.documents, self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                body = documents.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(body or b"{}")

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def serve_file(self, path: str, file: Path) -> str:
        self.documents[path] = file.read_bytes()
        return self.base + path

    def serve_json(self, path: str, document: Any) -> str:
        self.documents[path] = json.dumps(document, default=_number).encode()
        return self.base + path

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def empty_services(db_url: str, tmp_path: Path, feeds: FeedServer) -> Iterator[Services]:
    """Services on a database with no feed prices (snapshot seeding off); feeds point at ``feeds``."""
    built = make_services(
        db_url,
        tmp_path,
        pricing_seed_snapshot=False,
        pricing_litellm_url=feeds.base + "/litellm.json",
        pricing_openrouter_url=feeds.base + "/openrouter.json",
    )
    built.operator_events = InProcessAlertQueue()  # what the operators' topic would get
    try:
        yield built
    finally:
        built.close()
