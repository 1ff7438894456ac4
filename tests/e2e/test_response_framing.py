"""How the local server frames what it sends: a whole body (JSON answers, errors) carries its
``content-length`` (no chunked framing for the server to add nor the client to parse); a stream is
sent chunked as it is produced, without a length."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fake_providers.base import FakeProvider, running
from tests.fake_providers.openai_server import fake_openai
from tests.long_calls import openai_with_budget
from tests.support import LiveServer, Tenant

CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 16}


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with running(fake_openai()) as fake:
        yield fake


def _whole(response: httpx.Response) -> None:
    assert response.headers.get("content-length") == str(len(response.content))
    assert "transfer-encoding" not in response.headers


def test_whole_bodies_carry_their_length_and_streams_are_chunked(
    live_server: LiveServer, tenant: Tenant, upstream: FakeProvider
) -> None:
    openai_with_budget(live_server.services, tenant, upstream, "sk-frame-" + "f" * 24)
    auth = {"Authorization": f"Bearer {tenant.admin_key}"}
    with httpx.Client(base_url=live_server.base_url, timeout=30) as client:
        answer = client.post("/v1/chat/completions", json=CHAT, headers=auth)
        assert answer.status_code == 200 and answer.json()["choices"]
        _whole(answer)
        unknown = client.get("/v1/nope", headers=auth)
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_route"
        _whole(unknown)
        _whole(client.get("/health"))
        with client.stream("POST", "/v1/chat/completions", json={**CHAT, "stream": True}, headers=auth) as stream:
            assert stream.status_code == 200
            assert stream.headers.get("transfer-encoding") == "chunked" and "content-length" not in stream.headers
            lines = [line for line in stream.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
