"""Budget scope values are validated and normalized; limits are the same on both databases; a new
budget starts with its period's spend so far; a 402 names this request's reservation."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.integration.budgets.conftest import api, budget_body
from tests.support import LiveServer, Tenant, make_tenant

HI = {"model": "mock/echo", "messages": [{"role": "user", "content": "hi"}]}


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of a documented error body."""
    error: dict[str, Any] = response.json()["error"]
    return error


@pytest.mark.parametrize(
    ("scope", "value", "says"),
    [
        ("key", "not-a-uuid", "UUID"),
        ("key", str(uuid.uuid4()), "no key"),
        ("provider", "openai2", "unknown provider"),
        ("workflow", "w" * 201, "at most 200"),
        ("agent", "   ", ""),  # blank: refused by the schema itself
        ("workspace", "anything", "must be empty"),
        ("model", "mock/", "provider/model"),
        ("model", "openai/gpt-4o-*", "not a pattern"),  # matched by equality: a glob never matches
        ("model", "gpt-4o-mini?", "not a pattern"),
    ],
)
def test_a_scope_value_that_can_never_match_is_a_400_naming_the_field(
    live_server: LiveServer, tenant: Tenant, scope: str, value: str, says: str
) -> None:
    with api(live_server, tenant.admin_key) as client:
        response = client.post("/v1/budgets", json=budget_body(scope=scope, scope_value=value))
    assert response.status_code == 400, response.text
    message = error_of(response)["message"]
    assert message.startswith("body.scope_value:") and says in message


@pytest.mark.parametrize("model", ["zzz/model-x", "Nope/gpt-4o-mini"])
def test_a_downgrade_model_of_an_unknown_provider_is_a_400_naming_the_field(
    live_server: LiveServer, tenant: Tenant, model: str
) -> None:
    # Given a downgrade budget whose downgrade_model names a provider Tollgate does not know
    body = budget_body(action="downgrade", downgrade_model=model)
    with api(live_server, tenant.admin_key) as client:
        created = client.post("/v1/budgets", json=body)
        # (a known provider, a custom credential or a bare id are accepted, and replacing checks the same)
        valid = client.post("/v1/budgets", json=budget_body(action="downgrade", downgrade_model="mock/echo"))
        assert valid.status_code == 201, valid.text
        for accepted in ("custom:local/llama3", "gpt-4o-mini"):
            response = client.post("/v1/budgets", json=budget_body(action="downgrade", downgrade_model=accepted))
            assert response.status_code == 201, response.text
        replaced = client.put(f"/v1/budgets/{valid.json()['id']}", json=body)
    # Then it is refused when saved, since every downgraded call would be refused as an unknown model
    for response in (created, replaced):
        assert response.status_code == 400, response.text
        message = error_of(response)["message"]
        assert message.startswith("body.downgrade_model: unknown provider") and "mock" in message


def test_another_workspaces_key_is_refused(live_server: LiveServer, tenant: Tenant) -> None:
    other = make_tenant(live_server.services)
    with api(live_server, tenant.admin_key) as client:
        response = client.post("/v1/budgets", json=budget_body(scope="key", scope_value=str(other.admin_key_id)))
    assert response.status_code == 400 and "no key" in error_of(response)["message"]


def test_an_upper_case_key_id_is_normalized_and_then_blocks_that_key(live_server: LiveServer, tenant: Tenant) -> None:
    shouted = str(tenant.admin_key_id).upper()
    with api(live_server, tenant.admin_key) as client:
        created = client.post(
            "/v1/budgets", json=budget_body(scope="key", scope_value=f"  {shouted} ", limit_usd="0.000001")
        )
        assert created.status_code == 201, created.text
        assert created.json()["scope_value"] == str(tenant.admin_key_id)
        assert client.post("/v1/chat/completions", json=HI).status_code == 402


@pytest.mark.parametrize(
    ("scope", "given", "stored"),
    [
        ("provider", " Mock ", "mock"),
        ("model", "MOCK/echo", "mock/echo"),
        ("workflow", "  données-été ", "données-été"),
    ],
)
def test_values_are_stored_normalized(
    live_server: LiveServer, tenant: Tenant, scope: str, given: str, stored: str
) -> None:
    with api(live_server, tenant.admin_key) as client:
        created = client.post("/v1/budgets", json=budget_body(scope=scope, scope_value=given))
        assert created.status_code == 201, created.text
        assert created.json()["scope_value"] == stored
        replaced = client.put(f"/v1/budgets/{created.json()['id']}", json=budget_body(scope=scope, scope_value=given))
    assert replaced.status_code == 200 and replaced.json()["scope_value"] == stored


@pytest.mark.parametrize(("limit", "status"), [("1000000", 201), ("10000000", 400), ("9300000", 400)])
def test_limit_usd_has_the_same_range_on_both_databases(
    live_server: LiveServer, tenant: Tenant, limit: str, status: int
) -> None:
    with api(live_server, tenant.admin_key) as client:
        response = client.post("/v1/budgets", json=budget_body(limit_usd=limit))
        assert response.status_code == status, response.text
        if status == 201:
            got = client.get(f"/v1/budgets/{response.json()['id']}").json()
            assert Decimal(got["limit_usd"]) == Decimal(limit)
            assert client.get(f"/v1/budgets/{response.json()['id']}/status").status_code == 200
        else:
            assert "body.limit_usd" in error_of(response)["message"]


def test_a_new_budget_counts_its_periods_spend_so_far(live_server: LiveServer, tenant: Tenant) -> None:
    with api(live_server, tenant.admin_key) as client:
        costs = [Decimal(client.post("/v1/chat/completions", json=HI).headers["x-tollgate-cost-usd"]) for _ in "ab"]
        created = client.post("/v1/budgets", json=budget_body(limit_usd="5"))
        scoped = client.post("/v1/budgets", json=budget_body(scope="model", scope_value="mock/other", limit_usd="5"))
        status = client.get(f"/v1/budgets/{created.json()['id']}/status").json()
        other = client.get(f"/v1/budgets/{scoped.json()['id']}/status").json()
    assert sum(costs) > 0
    assert Decimal(status["spent_usd"]) == sum(costs)
    assert Decimal(other["spent_usd"]) == 0  # another model's scope: nothing of it was spent
    assert status["thresholds_crossed"] == [] and status["thresholds_pending"] == []


def test_the_402_names_this_requests_reservation_and_max_tokens(live_server: LiveServer, tenant: Tenant) -> None:
    with api(live_server, tenant.admin_key) as client:
        client.post("/v1/budgets", json=budget_body(limit_usd="0.001"))
        body: dict[str, Any] = {**HI, "messages": [{"role": "user", "content": "hi " * 2000}], "max_tokens": 1_000_000}
        response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 402, response.text
    error = error_of(response)
    assert "worst-case reservation" in error["message"] and "max_tokens" in error["message"]
    assert "output tokens" in error["message"] and Decimal(error["reservation_usd"]) > Decimal("0.001")
