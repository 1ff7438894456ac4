"""The pricing routes over HTTP on the local server (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.integration.pricing.conftest import FeedServer
from tests.pricing_data import (
    SNAPSHOT_MODELS,
    SNAPSHOT_OPENROUTER_MODELS,
    snapshot_document,
    snapshot_openrouter_document,
)
from tests.support import ROOT_KEY, LiveServer, Tenant, assert_error, make_key

ROOT = {"authorization": f"Bearer {ROOT_KEY}"}


def auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def get(server: LiveServer, path: str, key: str, **params: Any) -> httpx.Response:
    return httpx.get(server.base_url + path, headers=auth(key), params=params, timeout=30)


def test_list_is_paginated_with_decimal_string_prices(live_server: LiveServer, tenant: Tenant) -> None:
    member = make_key(live_server.services, tenant.workspace_id)
    first = get(live_server, "/v1/pricing", member, provider="openai", limit=2)
    assert first.status_code == 200
    body = first.json()
    assert len(body["data"]) == 2 and body["next_cursor"]
    row = body["data"][0]
    assert row["provider"] == "openai" and row["source"] == "litellm"
    for field in ("input_per_1m", "output_per_1m", "cache_read_per_1m", "cache_write_per_1m", "reasoning_per_1m"):
        assert field in row
    assert isinstance(row["input_per_1m"], str) and Decimal(row["input_per_1m"]) >= 0
    assert row["effective_from"]
    second = get(live_server, "/v1/pricing", member, provider="openai", limit=2, cursor=body["next_cursor"])
    assert second.status_code == 200
    models = [r["model"] for r in body["data"]] + [r["model"] for r in second.json()["data"]]
    assert len(set(models)) == 4 and models == sorted(models)
    # root can read too
    assert get(live_server, "/v1/pricing", ROOT_KEY, provider="gemini", limit=1).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "abc"},
        {"limit": "0"},
        {"limit": "100000"},
        {"cursor": "!!!"},
        {"provider": "Bad Provider!"},
        {"unknown": "1"},
    ],
)
def test_list_validates_its_query(live_server: LiveServer, tenant: Tenant, params: dict[str, str]) -> None:
    response = get(live_server, "/v1/pricing", tenant.admin_key, **params)
    assert_error(response, (400, 422), "invalid_request_error")


def test_list_needs_a_key(live_server: LiveServer) -> None:
    assert httpx.get(live_server.base_url + "/v1/pricing", timeout=10).status_code == 401


def test_detail_has_current_and_history_and_model_ids_with_slashes(live_server: LiveServer, tenant: Tenant) -> None:
    response = get(live_server, "/v1/pricing/openai/gpt-4o", tenant.admin_key)
    assert response.status_code == 200
    body = response.json()
    assert body["current"]["input_per_1m"] == "2.5" and body["current"]["output_per_1m"] == "10"
    assert len(body["history"]) == 1
    slashed = get(live_server, "/v1/pricing/deepinfra/openai/gpt-oss-120b", tenant.admin_key)
    assert slashed.status_code == 200 and slashed.json()["model"] == "openai/gpt-oss-120b"
    missing = get(live_server, "/v1/pricing/openai/no-such-model", tenant.admin_key)
    assert_error(missing, 404, "not_found_error")


def test_manual_override_wins_and_identical_put_writes_nothing(live_server: LiveServer, tenant: Tenant) -> None:
    url = live_server.base_url + "/v1/pricing/openai/gpt-4o"
    body = {"input_per_1m": "1.5", "output_per_1m": 6, "cache_read_per_1m": "0.75"}
    put = httpx.put(url, json=body, headers=ROOT, timeout=10)
    assert put.status_code == 200, put.text
    assert put.json()["source"] == "manual" and put.json()["input_per_1m"] == "1.5"
    again = httpx.put(url, json=body, headers=ROOT, timeout=10)
    assert again.json()["id"] == put.json()["id"]
    detail = get(live_server, "/v1/pricing/openai/gpt-4o", tenant.admin_key).json()
    assert detail["current"]["source"] == "manual" and len(detail["history"]) == 2
    price = live_server.services.prices.current("openai", "gpt-4o")
    assert price is not None and price.input_per_1m == Decimal("1.5")


def test_manual_price_makes_a_custom_model_billable(live_server: LiveServer, tenant: Tenant) -> None:
    url = live_server.base_url + "/v1/pricing/mock/unpriced-model"
    assert httpx.put(url, json={"input_per_1m": 0, "output_per_1m": 0}, headers=ROOT, timeout=10).status_code == 200
    chat = httpx.post(
        live_server.api_url + "/chat/completions",
        json={"model": "mock/unpriced-model", "messages": [{"role": "user", "content": "hi"}]},
        headers=auth(tenant.admin_key),
        timeout=10,
    )
    assert chat.status_code == 200 and chat.headers["x-tollgate-cost-usd"] == "0"


@pytest.mark.parametrize(
    "body",
    [
        {"input_per_1m": "abc", "output_per_1m": 1},
        {"input_per_1m": -1, "output_per_1m": 1},
        {"input_per_1m": 1e12, "output_per_1m": 1},
        {"input_per_1m": 1},
        {"input_per_1m": 1, "output_per_1m": 1, "surprise": True},
        {"input_per_1m": "0.0000000001", "output_per_1m": 1},
        {"input_per_1m": 1, "output_per_1m": 1, "input_above_tier_per_1m": 2},
    ],
)
def test_manual_put_validates(live_server: LiveServer, body: dict[str, Any]) -> None:
    response = httpx.put(live_server.base_url + "/v1/pricing/openai/gpt-4o", json=body, headers=ROOT, timeout=10)
    assert_error(response, (400, 422), "invalid_request_error")


@pytest.mark.parametrize("provider", ["zzz", "openai2", "custom:local"])
def test_a_manual_price_for_an_unknown_provider_is_a_400(live_server: LiveServer, provider: str) -> None:
    # A price no call could ever use (the execute path refuses the provider) is refused, named
    url = f"{live_server.base_url}/v1/pricing/{provider}/some-model"
    response = httpx.put(url, json={"input_per_1m": 1, "output_per_1m": 1}, headers=ROOT, timeout=10)
    error = assert_error(response, 400, "invalid_request_error", "validation_error")
    assert error["message"].startswith(f"path.provider: unknown provider '{provider}'") and "openai" in error["message"]
    listed = httpx.get(live_server.base_url + "/v1/pricing", params={"provider": provider}, headers=ROOT, timeout=10)
    assert listed.json()["data"] == []


def test_manual_put_needs_an_admin_or_root(live_server: LiveServer, tenant: Tenant) -> None:
    response = httpx.put(
        live_server.base_url + "/v1/pricing/openai/gpt-4o",
        json={"input_per_1m": 1, "output_per_1m": 1},
        headers=auth(make_key(live_server.services, tenant.workspace_id)),
        timeout=10,
    )
    assert response.status_code == 403


def test_refresh_status_and_health(live_server: LiveServer, tenant: Tenant, feeds: FeedServer) -> None:
    settings = live_server.services.settings
    settings.pricing_litellm_url = feeds.serve_json("/litellm.json", snapshot_document())
    settings.pricing_openrouter_url = feeds.serve_json("/openrouter.json", snapshot_openrouter_document())
    # Given only the seeded snapshot: stale (never refreshed), but healthy
    status = get(live_server, "/v1/pricing/status", tenant.admin_key).json()
    assert status["stale"] is True and status["last_success_at"] is None and status["model_count"] >= SNAPSHOT_MODELS
    assert status["sources"]["litellm"]["status"] == "seeded"
    health = httpx.get(live_server.base_url + "/health", timeout=10)
    assert health.status_code == 200 and health.json()["pricing"]["stale"] is True
    # A workspace key may not refresh; a bad body is refused
    url = live_server.base_url + "/v1/pricing/refresh"
    assert httpx.post(url, headers=auth(tenant.admin_key), timeout=10).status_code == 403
    assert httpx.post(url, json={"force": "maybe"}, headers=ROOT, timeout=10).status_code in (400, 422)
    # When root refreshes (no body needed)
    response = httpx.post(url, headers=ROOT, timeout=60)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["ok"] is True
    by_source = {s["source"]: s for s in report["sources"]}
    assert by_source["litellm"]["rows_written"] == 0 and by_source["litellm"]["unchanged"] == SNAPSHOT_MODELS
    # OpenRouter's prices ship in the snapshot too: the same list refreshes unchanged
    assert by_source["openrouter"]["rows_written"] == 0
    assert by_source["openrouter"]["unchanged"] == SNAPSHOT_OPENROUTER_MODELS
    # Then status and health say fresh
    status = get(live_server, "/v1/pricing/status", tenant.admin_key).json()
    assert status["stale"] is False and status["last_error"] is None
    assert status["sources"]["openrouter"]["models"] == SNAPSHOT_OPENROUTER_MODELS
    assert httpx.get(live_server.base_url + "/health", timeout=10).json()["pricing"]["stale"] is False
    # And OpenRouter's own price wins for provider openrouter
    detail = get(live_server, "/v1/pricing/openrouter/google/gemini-2.5-flash", tenant.admin_key).json()
    assert detail["current"]["source"] == "openrouter"
