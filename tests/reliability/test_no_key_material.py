"""Neither the provider key nor the gateway key ever appears in a response (body or headers) or a
log line (caplog and the powertools JSON on stdout/stderr), whatever fails: upstream 401 / 500 /
timeout / malformed body (each echoing the key back, as careless upstreams do), a credential
create or rotate with a bad key, a credential test rejected upstream, and a streamed failure."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.e2e.providers.conftest import Gateway, gateway  # noqa: F401 - the fixture
from tests.fake_providers import openai_server
from tests.fake_providers.base import FakeProvider, Reply, running

PROVIDER_KEY = "sk-test-leakcheck-" + "z" * 28
NEW_KEY = "sk-test-leakcheck-rotated-" + "y" * 20
ECHO = f"Incorrect API key provided: {PROVIDER_KEY}. Authorization: Bearer {PROVIDER_KEY}"
CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def upstream(gateway: Gateway) -> Iterator[FakeProvider]:  # noqa: F811
    with running(openai_server.fake_openai()) as fake:
        gateway.add_credential("openai", "main", fake.url + "/v1", PROVIDER_KEY)
        yield fake


def _client(gateway: Gateway) -> httpx.Client:  # noqa: F811
    return httpx.Client(
        base_url=gateway.server.base_url,
        headers={"Authorization": f"Bearer {gateway.tenant.admin_key}"},
        timeout=30,
    )


def _create(gateway: Gateway, fake: FakeProvider, key: str = PROVIDER_KEY, **extra: object) -> httpx.Response:  # noqa: F811
    body = {"provider": "openai", "name": "stored", "api_key": key, "base_url": fake.url + "/v1", **extra}
    return _client(gateway).post("/v1/credentials", json=body)


def upstream_401(gateway: Gateway, fake: FakeProvider) -> httpx.Response:  # noqa: F811
    fake.push(openai_server.error(401, "invalid_request_error", "invalid_api_key", ECHO))
    return _client(gateway).post("/v1/chat/completions", json=CHAT)


def upstream_500(gateway: Gateway, fake: FakeProvider) -> httpx.Response:  # noqa: F811
    fake.push(*[openai_server.error(500, "server_error", None, ECHO) for _ in range(3)])
    return _client(gateway).post("/v1/chat/completions", json=CHAT)


def upstream_timeout(gateway: Gateway, fake: FakeProvider) -> httpx.Response:  # noqa: F811
    fake.push(*[Reply(body={"error": {"message": ECHO}}, delay_s=1.0) for _ in range(3)])
    return _client(gateway).post("/v1/chat/completions", json=CHAT)


def upstream_malformed_body(gateway: Gateway, fake: FakeProvider) -> httpx.Response:  # noqa: F811
    fake.push(Reply(status=200, body=f"<html>{ECHO}</html>{{not json".encode()))
    return _client(gateway).post("/v1/chat/completions", json=CHAT)


def upstream_stream_error(gateway: Gateway, fake: FakeProvider) -> httpx.Response:  # noqa: F811
    events = [*openai_server.stream_events(("Hel", "lo")), f"data: {{broken {ECHO}\n\n"]
    fake.push(Reply(events=events[:2] + [events[-1]]))
    return _client(gateway).post("/v1/chat/completions", json={**CHAT, "stream": True})


def create_with_bad_base_url(gateway: Gateway, fake: FakeProvider) -> httpx.Response:  # noqa: F811
    return _create(gateway, fake, base_url="ftp://example.com/v1")


def create_with_bad_key(gateway: Gateway, fake: FakeProvider) -> httpx.Response:  # noqa: F811
    return _create(gateway, fake, key=PROVIDER_KEY + "\r\nX-Evil: 1")


def create_with_unknown_provider(gateway: Gateway, fake: FakeProvider) -> httpx.Response:  # noqa: F811
    return _create(gateway, fake, provider="nope")


def rotate_with_bad_key(gateway: Gateway, fake: FakeProvider) -> httpx.Response:  # noqa: F811
    created = _create(gateway, fake)
    assert created.status_code == 201, created.text
    credential_id = created.json()["id"]
    return _client(gateway).post(f"/v1/credentials/{credential_id}/rotate", json={"api_key": NEW_KEY + " space"})


def credential_test_rejected(gateway: Gateway, fake: FakeProvider) -> httpx.Response:  # noqa: F811
    fake.push(openai_server.error(401, "invalid_request_error", "invalid_api_key", ECHO))
    body = {"provider": "openai", "name": "trial", "api_key": PROVIDER_KEY, "base_url": fake.url + "/v1"}
    return _client(gateway).post("/v1/credentials/test", json=body)


FAILURES: dict[str, tuple[Callable[[Gateway, FakeProvider], httpx.Response], int]] = {
    "upstream-401": (upstream_401, 424),
    "upstream-500": (upstream_500, 502),
    "upstream-timeout": (upstream_timeout, 504),
    "upstream-malformed-json": (upstream_malformed_body, 502),
    "upstream-stream-error": (upstream_stream_error, 200),
    "create-bad-base-url": (create_with_bad_base_url, 400),
    "create-bad-key": (create_with_bad_key, 400),
    "create-unknown-provider": (create_with_unknown_provider, 400),
    "rotate-bad-key": (rotate_with_bad_key, 400),
    "credential-test-rejected": (credential_test_rejected, 200),
}


@pytest.mark.parametrize("mode", list(FAILURES))
def test_no_key_material_in_responses_or_logs(
    gateway: Gateway,  # noqa: F811
    upstream: FakeProvider,
    mode: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    action, status = FAILURES[mode]
    caplog.set_level(logging.DEBUG)
    response = action(gateway, upstream)
    assert response.status_code == status, response.text
    logs = caplog.text + "".join(capfd.readouterr())
    request_id = response.headers["x-request-id"]
    if status >= 400:
        assert response.json()["error"]["request_id"] == request_id
        assert request_id in logs  # the failure was logged, so the check below is not vacuous
    exposed = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    secrets = [PROVIDER_KEY, PROVIDER_KEY[len("sk-") :], NEW_KEY, gateway.tenant.admin_key]
    secrets.append(gateway.tenant.admin_key.split("_", 2)[-1])  # the secret part of tg_<id>_<secret>
    for secret in secrets:
        assert secret not in exposed, f"{mode}: key material in the response"
        assert secret not in logs, f"{mode}: key material in the logs"
    assert "Incorrect API key provided" not in exposed  # upstream bodies are never relayed verbatim
