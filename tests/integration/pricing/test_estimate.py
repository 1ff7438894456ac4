"""POST /v1/cost/estimate and the workspace's unpriced policy on the execute path."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support import ROOT_KEY, LiveServer, Tenant, make_key
from tollgate.db.models import UsageRecord

MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hello, how are you today?"}]


def estimate(server: LiveServer, key: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        server.api_url + "/cost/estimate", json=body, headers={"authorization": f"Bearer {key}"}, timeout=30
    )


def test_estimate_from_messages_uses_the_openai_tokenizer(live_server: LiveServer, tenant: Tenant) -> None:
    member = make_key(live_server.services, tenant.workspace_id)
    response = estimate(live_server, member, {"model": "openai/gpt-4o", "messages": MESSAGES, "max_tokens": 100})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["tokenizer"] == "tiktoken:cl100k_base"
    # 3 priming + 2 × 3 framing + roles ("system": 2 by the 4-characters-per-token floor, "user": 1)
    # + 4 ("You are terse.") + 7 ("Hello, how are you today?")
    assert body["input_tokens"] == 3 + 2 * 3 + 2 + 1 + 4 + 7
    tokens = Decimal(body["input_tokens"])
    assert Decimal(body["min_cost_usd"]) == tokens * Decimal("2.5") / 10**6
    assert Decimal(body["max_cost_usd"]) == (tokens * Decimal("2.5") + 100 * Decimal(10)) / 10**6
    assert body["price"]["source"] == "litellm" and body["estimated"] is False


def test_estimate_from_token_counts_and_bare_model(live_server: LiveServer, tenant: Tenant) -> None:
    body = {"model": "claude-sonnet-4-5", "input_tokens": 1000}
    response = estimate(live_server, tenant.admin_key, body)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["model"] == "anthropic/claude-sonnet-4-5" and out["tokenizer"] == "given"
    assert out["max_output_tokens"] == 64000  # the model's output cap from the map
    assert Decimal(out["max_cost_usd"]) == (1000 * Decimal(6) + 64000 * Decimal(15)) / 10**6
    # One estimator for every provider (the same one the budget reservation uses).
    gemini = estimate(live_server, tenant.admin_key, {"model": "gemini/gemini-2.5-pro", "messages": MESSAGES})
    assert (
        gemini.json()["tokenizer"] == "tiktoken:cl100k_base"
        and gemini.json()["input_tokens"] == 3 + 2 * 3 + 2 + 1 + 4 + 7
    )


@pytest.mark.parametrize(
    "body",
    [
        {"model": "openai/gpt-4o"},
        {"model": "openai/gpt-4o", "messages": MESSAGES, "input_tokens": 5},
        {"model": "openai/gpt-4o", "input_tokens": "many"},
        {"model": "openai/gpt-4o", "input_tokens": -1},
        {"model": "openai/gpt-4o", "input_tokens": 10, "max_tokens": 10**9},
        {"model": "x" * 301, "input_tokens": 10},
        {"input_tokens": 10},
        {"model": "openai/gpt-4o", "input_tokens": 10, "temperature": 1},
        {"model": "nosuchprovider/model", "input_tokens": 10},
    ],
)
def test_estimate_validates(live_server: LiveServer, tenant: Tenant, body: dict[str, Any]) -> None:
    response = estimate(live_server, tenant.admin_key, body)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_estimate_is_for_workspace_keys(live_server: LiveServer) -> None:
    assert estimate(live_server, ROOT_KEY, {"model": "openai/gpt-4o", "input_tokens": 1}).status_code == 403


def test_unpriced_model_blocks_by_default(live_server: LiveServer, tenant: Tenant) -> None:
    response = estimate(live_server, tenant.admin_key, {"model": "openai/gpt-99", "input_tokens": 10})
    assert response.status_code == 409 and response.json()["error"]["type"] == "pricing_unavailable"


def test_estimate_policy_prices_by_the_nearest_model_and_alerts(live_server: LiveServer) -> None:
    services = live_server.services
    workspace = services.workspaces.create("estimators", "estimate")
    key = services.gateway_keys.create(workspace.id, "admin", "admin").plaintext
    # the estimate route uses the nearest OpenAI model: gpt-4o for a dated gpt-4o variant
    response = estimate(live_server, key, {"model": "openai/gpt-4o-2099-01-01", "input_tokens": 10})
    assert response.status_code == 200, response.text
    assert response.json()["estimated"] is True and response.json()["price"]["model"] == "gpt-4o"
    # a chat call to an unpriced mock model is served, billed at mock/echo's price, flagged and alerted
    chat = httpx.post(
        live_server.api_url + "/chat/completions",
        json={"model": "mock/echo-9000", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert chat.status_code == 200, chat.text
    with services.sessions() as session:
        (row,) = session.scalars(select(UsageRecord).where(UsageRecord.workspace_id == workspace.id)).all()
    echo = services.prices.current("mock", "echo")
    assert echo is not None
    assert row.estimated is True and row.price_id == echo.id and row.cost_usd > 0
    alerts = services.alert_queue.drain()  # type: ignore[attr-defined]
    unpriced = [a for a in alerts if a["event"] == "pricing.model_unpriced"]
    assert unpriced and unpriced[0]["model"] == "echo-9000" and unpriced[0]["priced_as"] == "mock/echo"
