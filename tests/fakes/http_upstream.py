"""A tiny provider-shaped HTTP server on 127.0.0.1 and an adapter whose ``verify`` calls it for real."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tollgate.providers.base import ChatRequest, ChatResponse, ChatStream, ProviderTarget
from tollgate.providers.errors import FailureKind, ProviderCallError

_STATUS_KINDS = {401: FailureKind.AUTH, 403: FailureKind.AUTH, 402: FailureKind.QUOTA, 429: FailureKind.RATE_LIMIT}


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

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        server.shutdown()
        server.server_close()


class HttpVerifyAdapter:
    """Only ``verify`` is real: ``GET {base_url}/models`` with the key, classified by status."""

    def __init__(self, name: str) -> None:
        self.name = name

    def verify(self, target: ProviderTarget) -> None:
        try:
            response = httpx.get(
                f"{target.base_url}/models", headers={"Authorization": f"Bearer {target.api_key}"}, timeout=2
            )
        except httpx.TimeoutException:
            raise ProviderCallError(FailureKind.TIMEOUT, "timed out", provider=self.name) from None
        except httpx.TransportError:
            raise ProviderCallError(FailureKind.NETWORK, "connection failed", provider=self.name) from None
        if response.status_code == 404:
            raise ProviderCallError(FailureKind.NOT_FOUND, "not found", provider=self.name, status=404)
        if response.status_code >= 400:
            kind = _STATUS_KINDS.get(response.status_code, FailureKind.SERVER)
            raise ProviderCallError(kind, f"status {response.status_code}", provider=self.name)

    def complete(self, target: ProviderTarget, request: ChatRequest) -> ChatResponse:
        raise NotImplementedError("verify-only test adapter")

    def stream(self, target: ProviderTarget, request: ChatRequest) -> ChatStream:
        raise NotImplementedError("verify-only test adapter")
