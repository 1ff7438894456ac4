"""One price precedence: /v1/models shows what execute bills; workspace overrides stay in their
workspace; root's override is global; the 409 names the routes an admin can use."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import httpx
from sqlalchemy import select

from tests.e2e.providers.conftest import Gateway
from tests.fake_providers import openrouter_server
from tests.fake_providers.base import running
from tests.support import ROOT_KEY, make_key, make_tenant
from tollgate.db.models import ModelPrice

MESSAGES = [{"role": "user", "content": "Say hi"}]


def feed_row(provider: str, model: str, source: str, rate: str) -> ModelPrice:
    return ModelPrice(
        provider=provider,
        model=model,
        source=source,
        input_per_1m=Decimal(rate),
        output_per_1m=Decimal(rate),
        max_output_tokens=4096,
        effective_from=datetime(2025, 1, 1, tzinfo=UTC),
    )


def call(gateway: Gateway, key: str, path: str, body: dict[str, object] | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {key}"}
    if body is None:
        return httpx.get(gateway.server.api_url + path, headers=headers, timeout=30)
    return httpx.post(gateway.server.api_url + path, json=body, headers=headers, timeout=30)


def put_price(gateway: Gateway, key: str, model: str, rate: str) -> httpx.Response:
    return httpx.put(
        f"{gateway.server.base_url}/v1/pricing/{model}",
        json={"input_per_1m": rate, "output_per_1m": rate},
        headers={"authorization": f"Bearer {key}"},
        timeout=30,
    )


def models(gateway: Gateway, key: str) -> dict[str, dict[str, object]]:
    return {m["id"]: m for m in call(gateway, key, "/models").json()["data"]}


def test_models_shows_the_price_execute_bills_for_openrouter(gateway: Gateway) -> None:
    with gateway.services.sessions.begin() as session:
        session.add(feed_row("openrouter", "meta/llama-9", "litellm", "1"))
        session.add(feed_row("openrouter", "meta/llama-9", "openrouter", "9"))  # OpenRouter's own list wins
    with running(openrouter_server.fake_openrouter()) as server:
        gateway.add_credential("openrouter", "main", server.url + "/api/v1", "sk-or-v1-testk3y0001")
        shown = models(gateway, gateway.tenant.admin_key)["openrouter/meta/llama-9"]
        response = call(
            gateway,
            gateway.tenant.admin_key,
            "/chat/completions",
            {"model": "openrouter/meta/llama-9", "messages": MESSAGES},
        )
    assert response.status_code == 200, response.text
    (row,) = gateway.usage_rows()
    with gateway.services.sessions() as session:
        billed = session.scalars(select(ModelPrice).where(ModelPrice.id == row.price_id)).one()
    assert (shown["input_per_1m"], shown["output_per_1m"]) == ("9", "9")
    assert (billed.source, billed.input_per_1m) == ("openrouter", Decimal(9))


def test_an_admin_prices_a_model_for_their_workspace_only(gateway: Gateway) -> None:
    admin = gateway.tenant.admin_key
    other = make_tenant(gateway.services, "other")
    # Unpriced: the 409 tells a workspace admin both routes that work for them
    refused = call(gateway, admin, "/cost/estimate", {"model": "mock/priceless", "input_tokens": 10})
    assert refused.status_code == 409
    message = refused.json()["error"]["message"]
    assert "PUT /v1/pricing/mock/priceless" in message and "PATCH /v1/workspace" in message
    # A member may not price; the admin may, for this workspace
    assert (
        put_price(gateway, make_key(gateway.services, gateway.tenant.workspace_id), "mock/priceless", "3").status_code
        == 403
    )
    written = put_price(gateway, admin, "mock/priceless", "3")
    assert written.status_code == 200, written.text
    ok = call(gateway, admin, "/cost/estimate", {"model": "mock/priceless", "input_tokens": 1_000_000})
    assert ok.status_code == 200 and Decimal(ok.json()["min_cost_usd"]) == 3
    assert (
        call(gateway, other.admin_key, "/cost/estimate", {"model": "mock/priceless", "input_tokens": 10}).status_code
        == 409
    )
    # An admin override beats root's global one in its own workspace; root's applies elsewhere
    assert put_price(gateway, ROOT_KEY, "mock/echo", "7").status_code == 200
    assert put_price(gateway, admin, "mock/echo", "5").status_code == 200
    mine = models(gateway, admin)["mock/echo"]
    theirs = models(gateway, other.admin_key)["mock/echo"]
    assert (mine["input_per_1m"], theirs["input_per_1m"]) == ("5", "7")
    detail = httpx.get(
        f"{gateway.server.base_url}/v1/pricing/mock/echo", headers={"authorization": f"Bearer {other.admin_key}"}
    ).json()
    assert detail["current"]["input_per_1m"] == "7"
    assert all(v["input_per_1m"] != "5" for v in detail["history"])  # another workspace's override is invisible
    billed = call(gateway, admin, "/chat/completions", {"model": "mock/echo", "messages": MESSAGES})
    (row,) = gateway.usage_rows()
    with gateway.services.sessions() as session:
        price = session.scalars(select(ModelPrice).where(ModelPrice.id == row.price_id)).one()
    assert billed.status_code == 200 and (price.workspace_id, price.input_per_1m) == (
        gateway.tenant.workspace_id,
        Decimal(5),
    )
