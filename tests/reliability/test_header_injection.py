"""Client headers never reach the upstream provider: only the adapter's own auth and content
headers (plus the HTTP client's transport headers) are sent, and CR/LF in attribution values is
either refused by the server or kept out of every upstream header."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.providers.conftest import Gateway, gateway  # noqa: F401 - the fixture
from tests.fake_providers import anthropic_server, gemini_server, openai_server
from tests.fake_providers.base import FakeProvider, running

KEYS = {"openai": "sk-test-hdr-openai-0001", "anthropic": "sk-ant-test-hdr-0001", "gemini": "AIzaSyHdrTest000000000001"}
MODELS = {
    "openai": "openai/gpt-4o-mini",
    "anthropic": "anthropic/claude-sonnet-4-5",
    "gemini": "gemini/gemini-2.5-flash",
}
# transport headers httpx itself sets on every request
TRANSPORT = {"host", "accept", "accept-encoding", "connection", "user-agent", "content-length", "content-type"}
OWN = {"openai": {"authorization"}, "anthropic": {"x-api-key", "anthropic-version"}, "gemini": {"x-goog-api-key"}}
HOSTILE = {
    "X-Api-Key": "sk-client-supplied-evil-0001",
    "X-Goog-Api-Key": "AIzaClientSuppliedEvil0001",
    "Anthropic-Version": "1999-01-01",
    "OpenAI-Organization": "org-evil",
    "X-Forwarded-For": "10.0.0.1, 169.254.169.254",
    "X-Forwarded-Host": "evil.example",
    "Forwarded": "for=10.0.0.1;host=evil.example",
    "X-Real-IP": "10.0.0.1",
    "Cookie": "session=evil",
    "Proxy-Authorization": "Basic ZXZpbDpldmls",
    "X-Tollgate-Workflow": "etl",
    "X-Tollgate-Agent": "bot",
    "X-Tollgate-Tags": "a,b",
    "X-Custom-Injected": "injected-value",
}


@pytest.fixture(params=["openai", "anthropic", "gemini"])
def provider(request: pytest.FixtureRequest, gateway: Gateway) -> Iterator[tuple[str, FakeProvider]]:  # noqa: F811
    name = str(request.param)
    fake = {"openai": openai_server.fake_openai, "anthropic": anthropic_server.fake_anthropic}.get(
        name, gemini_server.fake_gemini
    )()
    with running(fake):
        base = fake.url + ("/v1" if name == "openai" else "")
        gateway.add_credential(name, f"{name}-main", base, KEYS[name])
        yield name, fake


def _chat_body(name: str) -> dict[str, object]:
    return {
        "model": MODELS[name],
        "messages": [{"role": "user", "content": "hi"}],
        "metadata": {"workflow": "wf\r\nX-Injected: 1", "agent": "a\nb", "tags": ["t\r\nX-Tag: 1"]},
    }


def _assert_clean(name: str, fake: FakeProvider, gateway_key: str) -> None:
    (recorded,) = fake.requests
    assert set(recorded.headers) <= TRANSPORT | OWN[name], sorted(set(recorded.headers) - TRANSPORT - OWN[name])
    joined = "\n".join(f"{k}: {v}" for k, v in recorded.headers.items())
    for value in [*HOSTILE.values(), gateway_key, "X-Injected", "evil"]:
        assert value not in joined
    assert recorded.headers["host"].startswith("127.0.0.1:")
    if name == "openai":
        assert recorded.headers["authorization"] == f"Bearer {KEYS['openai']}"
    elif name == "anthropic":
        assert recorded.headers["x-api-key"] == KEYS["anthropic"]
        assert recorded.headers["anthropic-version"] == "2023-06-01"
    else:
        assert recorded.headers["x-goog-api-key"] == KEYS["gemini"] and KEYS["gemini"] not in recorded.raw_target
    # gateway-only body fields are not forwarded either
    assert "metadata" not in (recorded.body or {}) and "X-Injected" not in str(recorded.body)


def test_client_headers_do_not_reach_the_upstream(gateway: Gateway, provider: tuple[str, FakeProvider]) -> None:  # noqa: F811
    name, fake = provider
    key = gateway.tenant.admin_key
    # a different x-api-key next to Authorization is ambiguous: refused before anything is sent
    headers = {**HOSTILE, "Authorization": f"Bearer {key}", "Host": "evil.example"}
    refused = httpx.post(gateway.server.api_url + "/chat/completions", json=_chat_body(name), headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "ambiguous_credentials"
    assert fake.requests == []
    # the same key in x-api-key is not ambiguous, and still never forwarded
    headers["X-Api-Key"] = key
    response = httpx.post(gateway.server.api_url + "/chat/completions", json=_chat_body(name), headers=headers)
    assert response.status_code == 200, response.text
    _assert_clean(name, fake, gateway.tenant.admin_key)
    # nothing from the request is reflected into response headers
    assert "X-Injected" not in str(response.headers) and "evil" not in str(response.headers)
    # the CR/LF metadata values were stored as data (labels), never interpreted as headers
    (row,) = gateway.usage_rows()
    assert row.workflow == "etl" and row.agent == "bot"


def _raw_request(url: str, head: bytes, body: bytes) -> bytes:
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head + body)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "workflow",
    [b"wf\r\nX-Injected: 1", b"wf\nX-Injected: 1", b"wf\rX-Injected: 1", b"wf\r\n X-Injected: 1"],
    ids=["crlf", "lf", "cr", "obs-fold"],
)
def test_crlf_in_a_workflow_header_is_rejected_or_never_reaches_upstream(
    gateway: Gateway,  # noqa: F811
    provider: tuple[str, FakeProvider],
    workflow: bytes,
) -> None:
    name, fake = provider
    import json

    body = json.dumps({"model": MODELS[name], "messages": [{"role": "user", "content": "hi"}]}).encode()
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nAuthorization: Bearer " + gateway.tenant.admin_key.encode() + b"\r\n"
        b"X-Tollgate-Workflow: " + workflow + b"\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    raw = _raw_request(gateway.server.base_url, head, body)
    status = int(raw.split(b" ", 2)[1])
    assert status in (200, 400), raw[:300]
    assert b"X-Injected" not in raw.split(b"\r\n\r\n", 1)[0]  # never reflected into a response header
    if status == 400:
        assert fake.requests == []
        return
    # accepted (the server parsed the line as a separate header): it still never reaches upstream
    _assert_clean(name, fake, gateway.tenant.admin_key)
    (row,) = gateway.usage_rows()
    assert row.workflow is None or ("\r" not in row.workflow and "\n" not in row.workflow)
