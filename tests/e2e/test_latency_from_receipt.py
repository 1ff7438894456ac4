"""A usage row's ``latency_ms`` counts from the moment the server received the request (before its
body was read and before any queueing on the event loop), not from when planning started
(docs/usage.md, "Record fields"). A client that sends its body 0.4 s after its headers sees that
0.4 s in ``latency_ms``; ``upstream_ms`` stays the provider's share only."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from tests.fake_providers import openai_server
from tests.fake_providers.base import FakeProvider, Recorded, Reply, running
from tests.long_calls import openai_with_budget
from tests.support import Tenant, run_server
from tollgate.db.models import UsageRecord
from tollgate.wiring import Services

BODY_DELAY_S = 0.4


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    def answer(_recorded: Recorded) -> Reply:
        return Reply(body=openai_server.completion())

    with running(FakeProvider(answer)) as fake:
        yield fake


def _post_with_late_body(base_url: str, key: str, body: bytes) -> bytes:
    """POST /v1/chat/completions, the headers at once and the body ``BODY_DELAY_S`` later."""
    address = urlsplit(base_url)
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\n"
        f"Host: {address.hostname}:{address.port}\r\n"
        f"Authorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(head)
        time.sleep(BODY_DELAY_S)
        sock.sendall(body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_latency_counts_from_request_receipt(services: Services, tenant: Tenant, upstream: FakeProvider) -> None:
    openai_with_budget(services, tenant, upstream, "sk-late-" + "r" * 24)
    body = json.dumps(
        {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 16}
    ).encode()
    with run_server(services) as server:
        answer = _post_with_late_body(server.base_url, tenant.admin_key, body)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    with services.sessions() as session:
        row = session.scalars(select(UsageRecord)).one()
    assert row.status == "success"
    assert row.latency_ms >= BODY_DELAY_S * 1000  # the late body is inside the call's latency
    assert row.upstream_ms is not None and row.upstream_ms < row.latency_ms
