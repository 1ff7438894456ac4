"""Credential base URLs never reach loopback/private addresses while TOLLGATE_ALLOW_LOCAL_NETWORK
is off: checked at connect time on every call (async execute transport and the sync credential
check), whatever spelling of 127.0.0.1 or DNS name is used; a credential saved while local access
was on stops working (424 ``base_url_blocked``) once it is off. The rest of the suite runs with
local access on (``tests.support.make_services``) so fake upstreams on 127.0.0.1 are reachable."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import aiohttp
import httpx
import openai
import pytest

from tests.fake_providers import openai_server
from tests.fake_providers.base import FakeProvider, running
from tests.fakes.credentials import FakeCredentialSource
from tests.support import LiveServer, Tenant, make_services, make_tenant, run_server
from tollgate.db.models import UsageRecord
from tollgate.keys.credential_check import check_target
from tollgate.providers.base import ProviderTarget
from tollgate.providers.guard import BlockedTarget, GuardedConnector, checked_address
from tollgate.providers.http_sync import GuardedTransport, pinned
from tollgate.wiring import Services, set_services

SPELLINGS = ["0x7f000001", "127.1", "2130706433", "0", "localhost.", "localhost", "[::1]", "127.0.0.1"]


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with running(openai_server.fake_openai()) as upstream:
        yield upstream


def _port(fake: FakeProvider) -> int:
    return httpx.URL(fake.url).port or 0


@pytest.mark.parametrize("host", SPELLINGS)
def test_every_spelling_of_loopback_is_refused_at_connect(fake: FakeProvider, host: str) -> None:
    url = f"http://{host}:{_port(fake)}/v1/models"
    with httpx.Client(transport=GuardedTransport(httpx.HTTPTransport)) as client, pytest.raises(BlockedTarget):
        client.get(url)

    async def call() -> None:
        async with aiohttp.ClientSession(connector=GuardedConnector()) as session:
            await session.get(url)

    with pytest.raises(BlockedTarget):
        asyncio.run(call())
    assert fake.requests == []


def test_private_dns_name_is_refused(fake: FakeProvider) -> None:
    # "localhost" is a DNS name that resolves privately on every host
    with httpx.Client(transport=GuardedTransport(httpx.HTTPTransport)) as client, pytest.raises(BlockedTarget):
        client.get(f"https://localhost:{_port(fake)}/v1")


@pytest.fixture
def guarded(db_url: str, tmp_path: Path) -> Iterator[tuple[Services, LiveServer, Tenant, FakeCredentialSource]]:
    services = make_services(db_url, tmp_path, allow_local_network=False)
    source = FakeCredentialSource(services.sessions)
    services.credentials = source
    set_services(services)
    tenant = make_tenant(services)
    try:
        with run_server(services) as server:
            yield services, server, tenant, source
    finally:
        set_services(None)
        services.close()


@pytest.mark.parametrize("stream", [False, True])
def test_credential_saved_with_local_on_stops_working_when_off(
    guarded: tuple[Services, LiveServer, Tenant, FakeCredentialSource], fake: FakeProvider, stream: bool
) -> None:
    services, server, tenant, source = guarded
    # stored without the save-time check, as when it was saved while local access was on
    source.add(tenant.workspace_id, "openai", "main", f"http://127.1:{_port(fake)}/v1", "sk-local-0001")
    sdk = openai.OpenAI(base_url=server.api_url, api_key=tenant.admin_key, max_retries=0)
    with pytest.raises(openai.APIStatusError) as refused:
        sdk.chat.completions.create(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=stream
        )
    assert refused.value.status_code == 424
    body = refused.value.response.json()["error"]
    assert body["code"] == "base_url_blocked" and "TOLLGATE_ALLOW_LOCAL_NETWORK" in body["message"]
    assert fake.requests == []
    with services.sessions() as session:
        (row,) = session.query(UsageRecord).all()
    assert (row.status, row.error_type, row.cost_usd) == ("error", "blocked_target", Decimal(0))


def test_credential_check_reports_the_rule(
    guarded: tuple[Services, LiveServer, Tenant, FakeCredentialSource], fake: FakeProvider
) -> None:
    services = guarded[0]
    target = ProviderTarget("openai", f"http://0x7f000001:{_port(fake)}/v1", "sk-local-0001")
    result = check_target(services.providers, target)
    assert not result.ok and result.error is not None
    assert "TOLLGATE_ALLOW_LOCAL_NETWORK" in result.error.message
    assert fake.requests == []


def test_a_public_address_is_pinned_with_the_original_name_for_tls() -> None:
    request = httpx.Request("POST", "https://api.example.com:8443/v1/chat/completions")
    pinned(request, checked_address("api.example.com", [(0, 0, 0, "", ("93.184.215.14", 8443))]))
    assert str(request.url) == "https://93.184.215.14:8443/v1/chat/completions"
    assert request.headers["host"] == "api.example.com:8443"
    assert request.extensions["sni_hostname"] == "api.example.com"
    # one refused address among public ones refuses the host (no "first answer wins")
    with pytest.raises(BlockedTarget):
        checked_address("mixed.example", [(0, 0, 0, "", ("93.184.215.14", 443)), (0, 0, 0, "", ("10.0.0.5", 443))])
