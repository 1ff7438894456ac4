"""The whole product path with nothing faked inside Tollgate: a provider key stored through the
credentials API (envelope-encrypted with the local master key), a block budget, the stock openai
SDK calling through the gateway to a fake OpenAI server on 127.0.0.1, and the usage, cost and
budget counters that result."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import openai
import pytest
from sqlalchemy import func, select

from tests.fake_providers.base import FakeProvider, running
from tests.fake_providers.openai_server import fake_openai
from tests.support import LiveServer, Tenant
from tollgate.db.models import BudgetCounter, ProviderCredential, Reservation, UsageRecord

UPSTREAM_KEY = "sk-test-fullpath-" + "k" * 24


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with running(fake_openai()) as server:
        yield server


def test_stored_key_budget_and_usage_end_to_end(
    live_server: LiveServer, tenant: Tenant, upstream: FakeProvider
) -> None:
    admin = httpx.Client(base_url=live_server.base_url, headers={"Authorization": f"Bearer {tenant.admin_key}"})
    # Given a provider key stored through the API and a block budget on the workspace
    created = admin.post(
        "/v1/credentials",
        json={"provider": "openai", "name": "main", "api_key": UPSTREAM_KEY, "base_url": upstream.url + "/v1"},
    )
    assert created.status_code == 201, created.text
    assert UPSTREAM_KEY not in created.text and created.json()["has_key"] is True
    budget = admin.post(
        "/v1/budgets",
        json={"name": "team", "scope": "workspace", "period": "monthly", "limit_usd": "10", "action": "block"},
    )
    assert budget.status_code == 201, budget.text
    sdk = openai.OpenAI(base_url=live_server.api_url, api_key=tenant.admin_key, max_retries=0)

    # When the SDK calls through the gateway, once plainly and once streaming
    raw = sdk.chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Say hi"}], max_tokens=64
    )
    answer = raw.parse()
    stream = sdk.chat.completions.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Say hi"}], max_tokens=64, stream=True
    )
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    # Then the upstream saw the decrypted key only in its Authorization header
    assert [r.headers["authorization"] for r in upstream.requests] == [f"Bearer {UPSTREAM_KEY}"] * 2
    assert answer.choices[0].message.content and streamed
    assert raw.headers["x-tollgate-provider"] == "openai"
    assert Decimal(raw.headers["x-tollgate-budget-remaining-usd"]) < Decimal(10)
    # And both calls are metered, the budget spent exactly their cost, nothing is still reserved
    with live_server.services.sessions() as session:
        rows = session.scalars(select(UsageRecord).order_by(UsageRecord.created_at)).all()
        spent = session.scalar(select(func.sum(BudgetCounter.spent_usd)))
        reserved = session.scalar(select(func.sum(BudgetCounter.reserved_usd)))
        open_reservations = session.scalar(select(func.count()).select_from(Reservation))
        ciphertext = session.scalars(select(ProviderCredential.key_ciphertext)).one()
    assert [(r.provider, r.status, r.stream) for r in rows] == [
        ("openai", "success", False),
        ("openai", "success", True),
    ]
    assert all(r.cost_usd > 0 and r.price_id is not None for r in rows)
    assert Decimal(raw.headers["x-tollgate-cost-usd"]) == rows[0].cost_usd
    assert spent == sum(r.cost_usd for r in rows)
    assert (reserved, open_reservations) == (Decimal(0), 0)
    assert ciphertext is not None and UPSTREAM_KEY.encode() not in ciphertext
