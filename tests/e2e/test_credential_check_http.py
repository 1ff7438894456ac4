"""`test` endpoints make a real HTTP call with the key and report ok / latency / error type."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.fakes.http_upstream import fake_upstream
from tests.support import LiveServer, Tenant, run_server
from tollgate.wiring import Services


@pytest.fixture
def server(services: Services) -> Iterator[LiveServer]:
    """The real provider adapters (their ``verify`` is GET {base_url}/models with the key)."""
    with run_server(services) as live:
        yield live


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_checks_call_the_upstream_with_the_key(server: LiveServer, tenant: Tenant) -> None:
    good = f"sk-good-{uuid.uuid4().hex}"
    h = {"Authorization": f"Bearer {tenant.admin_key}"}
    with fake_upstream(good) as (base_url, upstream), httpx.Client(base_url=server.base_url, timeout=10) as http:
        body = {"provider": "custom", "name": "local", "api_key": good, "base_url": base_url}
        # test before save: the upstream sees exactly the key we sent
        ok = http.post("/v1/credentials/test", json=body, headers=h).json()
        assert ok["ok"] is True and isinstance(ok["latency_ms"], int)
        assert upstream.seen_authorization == [f"Bearer {good}"]
        # a wrong key is reported as the provider rejecting it, without echoing the key
        rejected = http.post("/v1/credentials/test", json={**body, "api_key": "sk-wrong-123456"}, headers=h)
        assert rejected.json()["ok"] is False and rejected.json()["error"]["type"] == "provider_auth_error"
        assert "sk-wrong" not in rejected.text
        # a saved credential is tested with its decrypted key
        cid = http.post("/v1/credentials", json=body, headers=h).json()["id"]
        assert http.post(f"/v1/credentials/{cid}/test", headers=h).json()["ok"] is True
        assert upstream.seen_authorization[-1] == f"Bearer {good}"
        # a wrong path is a base_url problem
        wrong = http.post("/v1/credentials/test", json={**body, "base_url": base_url + "/nope"}, headers=h).json()
        assert wrong["error"]["type"] == "invalid_request_error" and "base_url" in wrong["error"]["message"]
    # nobody listening: the provider is unavailable
    down = {"provider": "custom", "name": "x", "api_key": good, "base_url": f"http://127.0.0.1:{dead_port()}/v1"}
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        result = http.post("/v1/credentials/test", json=down, headers=h).json()
    assert result["ok"] is False and result["error"]["type"] == "provider_unavailable"
