"""Failover outside routing rules: the reservation covers the dearest candidate that may serve, the
usage row is billed as the candidate that served, and the unpriced policy decides per candidate.

The gateway fixture makes ``anthropic/claude-sonnet-4-5`` an equivalent of ``openai/gpt-4o-mini``;
here anthropic is ten times dearer (a workspace price override), and the primary fails with 500s.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from sqlalchemy import delete

from tests.e2e.providers.conftest import Gateway
from tests.fake_providers import anthropic_server, openai_server
from tests.fake_providers.base import FakeProvider, running
from tollgate.db.models import ModelPrice

MESSAGES = [{"role": "user", "content": "Say hi"}]
REQUEST: dict[str, Any] = {"model": "openai/gpt-4o-mini", "messages": MESSAGES, "max_tokens": 50}
DEAR = {"input": Decimal("10"), "output": Decimal("20"), "cache_read": Decimal("1"), "cache_write": Decimal("12.5")}
# What the fake Anthropic reports for every answer (streamed or not).
ANTHROPIC_USAGE = {"input": 21, "cache_write": 1800, "output": 5}


@pytest.fixture
def openai_fake(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(openai_server.fake_openai()) as server:
        gateway.add_credential("openai", "openai-main", server.url + "/v1", "sk-test-openai-0001", priority=1)
        yield server


@pytest.fixture
def anthropic_fake(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(anthropic_server.fake_anthropic()) as server:
        gateway.add_credential("anthropic", "anthropic-backup", server.url, "sk-ant-test-backup-0001", priority=2)
        yield server


def admin(gateway: Gateway) -> httpx.Client:
    return httpx.Client(
        base_url=gateway.server.base_url, headers={"Authorization": f"Bearer {gateway.tenant.admin_key}"}, timeout=10
    )


def price_anthropic(gateway: Gateway, model: str = "claude-sonnet-4-5", *, workspace: bool = True) -> uuid.UUID:
    """A manual price for ``anthropic/<model>`` at the DEAR rates (for this workspace only, or global)."""
    row = ModelPrice(
        id=uuid.uuid4(),
        provider="anthropic",
        model=model,
        source="manual",
        workspace_id=gateway.tenant.workspace_id if workspace else None,
        input_per_1m=DEAR["input"],
        output_per_1m=DEAR["output"],
        cache_read_per_1m=DEAR["cache_read"],
        cache_write_per_1m=DEAR["cache_write"],
        max_output_tokens=4096,
        effective_from=datetime(2025, 6, 1, tzinfo=UTC),
    )
    with gateway.services.sessions.begin() as session:
        session.add(row)
    return row.id


def unprice_sonnet(gateway: Gateway) -> None:
    with gateway.services.sessions.begin() as session:
        session.execute(delete(ModelPrice).where(ModelPrice.provider == "anthropic"))


def dear_cost() -> Decimal:
    u = ANTHROPIC_USAGE
    total = u["input"] * DEAR["input"] + u["cache_write"] * DEAR["cache_write"] + u["output"] * DEAR["output"]
    return total / Decimal(1_000_000)


def worst_case(client: httpx.Client, model: str) -> Decimal:
    """What a budget reserves for ``model`` alone: the estimate endpoint's max (one estimator)."""
    estimate = client.post("/v1/cost/estimate", json={**REQUEST, "model": model})
    assert estimate.status_code == 200, estimate.text
    return Decimal(estimate.json()["max_cost_usd"])


def block_budget(client: httpx.Client, limit: Decimal) -> str:
    body = {"name": "b", "scope": "workspace", "period": "monthly", "limit_usd": str(limit), "action": "block"}
    created = client.post("/v1/budgets", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def fail_primary(openai_fake: FakeProvider) -> None:
    openai_fake.push(*[openai_server.error(*openai_server.SERVER_ERROR) for _ in range(3)])


def test_failover_to_a_dearer_model_is_reserved_and_billed_as_the_dearer_model(
    gateway: Gateway, openai_fake: FakeProvider, anthropic_fake: FakeProvider
) -> None:
    dear_price_id = price_anthropic(gateway)
    client = admin(gateway)
    cheap, dear = worst_case(client, "openai/gpt-4o-mini"), worst_case(client, "anthropic/claude-sonnet-4-5")
    assert dear > 5 * cheap
    budget_id = block_budget(client, Decimal("1"))
    # Given the primary answers 500 on every attempt
    fail_primary(openai_fake)
    # When the client calls it
    raw = gateway.sdk().chat.completions.with_raw_response.create(**REQUEST)
    # Then the dearer equivalent served, and the reservation (the budget left after it) covered it
    assert raw.headers["x-tollgate-provider"] == "anthropic"
    assert Decimal(raw.headers["x-tollgate-budget-remaining-usd"]) == Decimal("1") - dear
    # And the row is the fallback's: its model, provider, price row and cost, not estimated
    (row,) = gateway.usage_rows()
    assert (row.provider, row.model, row.fallback_from) == ("anthropic", "claude-sonnet-4-5", "openai-main")
    assert row.price_id == dear_price_id and row.estimated is False
    assert row.cost_usd == dear_cost()
    assert Decimal(raw.headers["x-tollgate-cost-usd"]) == dear_cost()
    # And the budget settled that cost, nothing still reserved
    status = client.get(f"/v1/budgets/{budget_id}/status").json()
    assert (Decimal(status["spent_usd"]), Decimal(status["reserved_usd"])) == (dear_cost(), Decimal(0))


def test_a_block_budget_that_fits_only_the_cheap_primary_refuses_up_front(
    gateway: Gateway, openai_fake: FakeProvider, anthropic_fake: FakeProvider
) -> None:
    price_anthropic(gateway)
    client = admin(gateway)
    cheap, dear = worst_case(client, "openai/gpt-4o-mini"), worst_case(client, "anthropic/claude-sonnet-4-5")
    block_budget(client, (cheap + dear) / 2)
    # When a call that could fail over to the dearer model is made
    with pytest.raises(openai.APIStatusError) as refused:
        gateway.sdk().chat.completions.create(**REQUEST)
    # Then it is refused before any provider call, naming the dearer reservation
    assert refused.value.status_code == 402
    error = refused.value.response.json()["error"]
    assert error["code"] == "budget_exceeded"
    assert Decimal(error["reservation_usd"]) == dear
    assert openai_fake.requests == [] and anthropic_fake.requests == []
    (row,) = gateway.usage_rows()
    assert (row.status, row.error_type, row.cost_usd) == ("refused", "budget_exceeded", Decimal(0))


def test_a_streamed_failover_is_billed_as_the_model_that_served(
    gateway: Gateway, openai_fake: FakeProvider, anthropic_fake: FakeProvider
) -> None:
    dear_price_id = price_anthropic(gateway)
    fail_primary(openai_fake)
    stream = gateway.sdk().chat.completions.create(**REQUEST, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Hi."
    (row,) = gateway.wait_for_rows(1)
    assert (row.status, row.provider, row.model, row.stream) == ("success", "anthropic", "claude-sonnet-4-5", True)
    assert row.price_id == dear_price_id and row.estimated is False
    assert row.cost_usd == dear_cost()


def test_an_unpriced_fallback_under_estimate_is_billed_as_estimated(
    gateway: Gateway, openai_fake: FakeProvider, anthropic_fake: FakeProvider
) -> None:
    # Given the equivalent model has no price, but a sibling does, and the workspace estimates
    unprice_sonnet(gateway)
    nearest_id = price_anthropic(gateway, "claude-sonnet-4", workspace=False)
    client = admin(gateway)
    assert client.patch("/v1/workspace", json={"unpriced_policy": "estimate"}).status_code == 200
    fail_primary(openai_fake)
    # When the primary fails and the unpriced equivalent serves
    completion = gateway.sdk().chat.completions.create(**REQUEST)
    assert completion.model == "anthropic/claude-sonnet-4-5"
    # Then the row is billed at the nearest model's price and says so
    (row,) = gateway.usage_rows()
    assert (row.provider, row.model, row.status) == ("anthropic", "claude-sonnet-4-5", "success")
    assert row.estimated is True and row.price_id == nearest_id
    assert row.cost_usd == dear_cost()


def test_an_unpriced_fallback_under_block_unpriced_is_never_tried(
    gateway: Gateway, openai_fake: FakeProvider, anthropic_fake: FakeProvider
) -> None:
    # Given the equivalent model has no price and the workspace blocks unpriced models (the default)
    unprice_sonnet(gateway)
    fail_primary(openai_fake)
    # When the primary fails
    with pytest.raises(openai.APIStatusError) as failed:
        gateway.sdk().chat.completions.create(**REQUEST)
    # Then the call fails with the primary's error: the unpriced fallback was not called
    assert failed.value.status_code >= 500
    assert len(openai_fake.requests) == 3 and anthropic_fake.requests == []
    (row,) = gateway.usage_rows()
    assert (row.status, row.provider, row.cost_usd) == ("error", "openai", Decimal(0))


def test_a_key_cap_is_checked_against_the_dearest_candidate(
    gateway: Gateway, openai_fake: FakeProvider, anthropic_fake: FakeProvider
) -> None:
    price_anthropic(gateway)
    client = admin(gateway)
    cheap, dear = worst_case(client, "openai/gpt-4o-mini"), worst_case(client, "anthropic/claude-sonnet-4-5")
    # Given a key whose per-request cap fits the primary's worst case but not its dearer equivalent's
    cap = (cheap + dear) / 2
    created = client.post("/v1/keys", json={"name": "capped", "role": "member", "max_cost_per_request_usd": str(cap)})
    assert created.status_code == 201, created.text
    capped = openai.OpenAI(base_url=gateway.server.api_url, api_key=created.json()["key"], max_retries=0)
    # When it makes a call that may fail over to the dearer model
    with pytest.raises(openai.APIStatusError) as refused:
        capped.chat.completions.create(**REQUEST)
    # Then it is refused before any provider call, naming the dearer worst case
    assert refused.value.status_code == 402
    error = refused.value.response.json()["error"]
    assert error["code"] == "max_cost_per_request" and Decimal(error["worst_case_usd"]) == dear
    assert openai_fake.requests == [] and anthropic_fake.requests == []
