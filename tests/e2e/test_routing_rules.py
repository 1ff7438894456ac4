"""Routing rules end to end: CRUD and validation over HTTP, then the stock openai SDK through the
gateway to a fake OpenAI server on 127.0.0.1 for route, cheapest, block and explain."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from sqlalchemy import select

from tests.fake_providers.base import FakeProvider, running
from tests.fake_providers.openai_server import fake_openai
from tests.support import LiveServer, Tenant, make_key, make_tenant
from tollgate.db.models import Reservation, UsageRecord
from tollgate.db.repositories.rules import DbRuleStore
from tollgate.execution.attribution import Attribution
from tollgate.routing.cache import CachedRules
from tollgate.routing.planner import facts_of

UPSTREAM_KEY = "sk-test-routing-" + "r" * 24
CHEAPEST = {"type": "cheapest", "targets": ["openai/gpt-4o", "openai/gpt-4o-mini"]}


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with running(fake_openai()) as server:
        yield server


def admin_client(server: LiveServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30)


def add_credential(admin: httpx.Client, upstream: FakeProvider) -> None:
    created = admin.post(
        "/v1/credentials",
        json={"provider": "openai", "name": "main", "api_key": UPSTREAM_KEY, "base_url": upstream.url + "/v1"},
    )
    assert created.status_code == 201, created.text


def rule_body(name: str, priority: int, match: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "priority": priority, "is_active": True, "match": match, "action": action}


def test_rules_crud_validation_roles_and_isolation(live_server: LiveServer, tenant: Tenant) -> None:
    admin = admin_client(live_server, tenant.admin_key)
    # Given two rules created out of priority order
    second = admin.post("/v1/routing-rules", json=rule_body("second", 20, {"model": "openai/*"}, CHEAPEST))
    first = admin.post("/v1/routing-rules", json=rule_body("first", 10, {"tags": ["x"]}, {"type": "block"}))
    assert second.status_code == 201 and first.status_code == 201, (second.text, first.text)
    rule = second.json()
    assert rule["match"] == {"model": "openai/*"} and rule["action"] == CHEAPEST and rule["is_active"] is True
    assert first.json()["action"] == {"type": "block", "message": "Blocked by a routing rule"}

    # When they are listed one per page, they come in evaluation order with a cursor
    page1 = admin.get("/v1/routing-rules", params={"limit": 1}).json()
    page2 = admin.get("/v1/routing-rules", params={"limit": 1, "cursor": page1["next_cursor"]}).json()
    assert [r["name"] for r in page1["data"] + page2["data"]] == ["first", "second"]
    assert page2["next_cursor"] is None

    # And a rule can be read, replaced and deleted
    path = f"/v1/routing-rules/{rule['id']}"
    assert admin.get(path).json()["name"] == "second"
    route = {"type": "route", "targets": ["mock/echo"]}
    replaced = admin.put(path, json=rule_body("renamed", 5, {"agent": "a"}, route))
    assert (
        replaced.status_code == 200 and replaced.json()["priority"] == 5 and replaced.json()["match"] == {"agent": "a"}
    )
    assert admin.delete(path).status_code == 200
    assert admin.get(path).status_code == 404

    # Then bad bodies are rejected with the field path, unknown and foreign ids are 404, members get 403
    bad_bodies = [
        {},
        rule_body("n", 1, {}, {"type": "route", "targets": []}),
        rule_body("n", 1, {}, {"type": "route"}),
        rule_body("n", 1, {}, {"type": "teleport", "targets": ["a/b"]}),
        rule_body("n", "high", {}, CHEAPEST),  # type: ignore[arg-type]
        rule_body("n", 1, {"tags": "x"}, CHEAPEST),
        rule_body("n", 1, {"colour": "red"}, CHEAPEST),
        rule_body("n", 1, {"key_id": "not-a-uuid"}, CHEAPEST),
        rule_body("", 1, {}, CHEAPEST),
        rule_body("n", 1, {}, {"type": "route", "targets": ["mock/echo", "x/y"]}),  # provider x is unknown
    ]
    for body in bad_bodies:
        refused = admin.post("/v1/routing-rules", json=body)
        assert refused.status_code in (400, 422), (body, refused.text)
        assert refused.json()["error"]["type"] == "invalid_request_error"
    unknown = admin.post("/v1/routing-rules", json=bad_bodies[-1]).json()["error"]["message"]
    assert unknown.startswith("body.action.route.targets: Value error, unknown provider 'x' in target 'x/y'")
    assert admin.get(f"/v1/routing-rules/{uuid.uuid4()}").json()["error"]["type"] == "not_found_error"
    assert admin.get("/v1/routing-rules/not-a-uuid").status_code == 404
    other = make_tenant(live_server.services, "other")
    foreign = admin_client(live_server, other.admin_key)
    foreign_id = first.json()["id"]
    assert foreign.get(f"/v1/routing-rules/{foreign_id}").status_code == 404
    assert foreign.put(f"/v1/routing-rules/{foreign_id}", json=rule_body("x", 1, {}, CHEAPEST)).status_code == 404
    assert foreign.delete(f"/v1/routing-rules/{foreign_id}").status_code == 404
    assert foreign.get("/v1/routing-rules").json()["data"] == []
    member = admin_client(live_server, make_key(live_server.services, tenant.workspace_id, "member"))
    assert member.get("/v1/routing-rules").status_code == 403
    assert member.post("/v1/routing-rules", json=rule_body("m", 1, {}, CHEAPEST)).status_code == 403
    assert member.post("/v1/routing-rules/explain", json={"model": "m", "messages": []}).status_code == 403


def test_route_cheapest_block_and_explain_through_the_sdk(
    live_server: LiveServer, tenant: Tenant, upstream: FakeProvider
) -> None:
    admin = admin_client(live_server, tenant.admin_key)
    add_credential(admin, upstream)
    cheapest = admin.post("/v1/routing-rules", json=rule_body("cheap", 30, {"model": "smart*"}, CHEAPEST)).json()
    route = admin.post(
        "/v1/routing-rules",
        json=rule_body("pin", 20, {"workflow": "report"}, {"type": "route", "targets": ["openai/gpt-4o"]}),
    ).json()
    block = admin.post(
        "/v1/routing-rules",
        json=rule_body("stop", 10, {"tags": ["forbidden"]}, {"type": "block", "message": "Not for this team"}),
    ).json()
    sdk = openai.OpenAI(base_url=live_server.api_url, api_key=tenant.admin_key, max_retries=0)
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hi"}]

    # When a request for "smart" matches the cheapest rule
    raw = sdk.chat.completions.with_raw_response.create(model="smart-v1", messages=messages, max_tokens=50)
    # Then the cheaper of the two targets served it
    assert raw.headers["x-tollgate-model"] == "gpt-4o-mini"
    assert upstream.requests[-1].body["model"] == "gpt-4o-mini"

    # When the workflow matches the route rule (a lower priority number, so it wins)
    raw = sdk.chat.completions.with_raw_response.create(
        model="smart-v1",
        messages=messages,
        max_tokens=50,
        extra_headers={"X-Tollgate-Workflow": "report"},
    )
    assert raw.headers["x-tollgate-model"] == "gpt-4o" and upstream.requests[-1].body["model"] == "gpt-4o"

    # When the block rule matches, the SDK gets a 403 permission_error and the provider is not called
    calls = len(upstream.requests)
    with pytest.raises(openai.PermissionDeniedError) as refused:
        sdk.chat.completions.create(
            model="smart-v1",
            messages=messages,
            extra_headers={"X-Tollgate-Tags": "a,forbidden"},
        )
    error = refused.value.response.json()["error"]
    assert (error["type"], error["code"], error["message"]) == (
        "permission_error",
        "routing_blocked",
        "Not for this team",
    )
    assert len(upstream.requests) == calls

    # And explain answers without calling any provider: the rule, the ordered candidates and their costs
    explained = admin.post(
        "/v1/routing-rules/explain", json={"model": "smart-v1", "messages": messages, "max_tokens": 50}
    )
    assert explained.status_code == 200, explained.text
    out = explained.json()
    assert out["matched_rule"]["id"] == cheapest["id"] and out["action"] == "cheapest" and out["blocked"] is False
    assert [c["model"] for c in out["candidates"]] == ["openai/gpt-4o-mini", "openai/gpt-4o"]
    costs = [float(c["estimated_cost_usd"]) for c in out["candidates"]]
    assert costs[0] < costs[1] and all(c["available"] and c["input_per_1m"] for c in out["candidates"])
    blocked = admin.post(
        "/v1/routing-rules/explain",
        json={"model": "x", "messages": messages},
        headers={"X-Tollgate-Tags": "forbidden"},
    ).json()
    assert blocked["blocked"] is True and blocked["matched_rule"]["id"] == block["id"] and blocked["candidates"] == []
    default = admin.post("/v1/routing-rules/explain", json={"model": "openai/gpt-4o-mini", "messages": messages}).json()
    assert default["matched_rule"] is None and default["action"] == "default"
    assert len(upstream.requests) == calls

    # And usage rows carry the rule that decided; the summary groups by it
    with live_server.services.sessions() as session:
        rows = session.scalars(select(UsageRecord).order_by(UsageRecord.created_at)).all()
        reservations = session.scalars(select(Reservation)).all()
    assert [(r.status, str(r.routing_rule_id)) for r in rows] == [
        ("success", cheapest["id"]),
        ("success", route["id"]),
        ("refused", block["id"]),
    ]
    assert rows[2].error_type == "routing_blocked" and rows[2].cost_usd == 0 and reservations == []
    summary = admin.get("/v1/usage/summary", params={"group_by": "routing_rule"}).json()
    hits = {g["routing_rule_id"]: g["requests"] for g in summary["data"]}
    assert hits == {cheapest["id"]: 1, route["id"]: 1, block["id"]: 1}


def test_a_rule_change_is_seen_by_another_instance_within_five_seconds(
    live_server: LiveServer, tenant: Tenant, upstream: FakeProvider
) -> None:
    admin = admin_client(live_server, tenant.admin_key)
    add_credential(admin, upstream)
    now = [0.0]
    other_instance = CachedRules(DbRuleStore(live_server.services.sessions), monotonic=lambda: now[0])
    assert len(other_instance.rules_for(tenant.workspace_id)) == 0
    admin.post("/v1/routing-rules", json=rule_body("new", 1, {}, CHEAPEST))
    now[0] = 4.9  # the other instance's cache revalidates within its interval (2 s) < 5 s
    rules = other_instance.rules_for(tenant.workspace_id)
    assert len(rules) == 1
    assert rules.first_match(facts_of({"model": "m"}, Attribution(), None)) is not None


def test_the_reservation_covers_the_dearest_candidate(
    live_server: LiveServer, tenant: Tenant, upstream: FakeProvider
) -> None:
    admin = admin_client(live_server, tenant.admin_key)
    add_credential(admin, upstream)
    rule = admin.post("/v1/routing-rules", json=rule_body("cheap", 1, {"model": "smart"}, CHEAPEST)).json()
    request = {"model": "smart", "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 1000}
    candidates = admin.post("/v1/routing-rules/explain", json=request).json()["candidates"]
    cheap, dear = (Decimal(c["estimated_cost_usd"]) for c in candidates)
    # Given a block budget that fits the cheapest candidate's worst case but not the dearest's
    limit = (cheap + dear) / 2
    budget = admin.post(
        "/v1/budgets",
        json={"name": "tight", "scope": "workspace", "period": "monthly", "limit_usd": str(limit), "action": "block"},
    )
    assert budget.status_code == 201, budget.text
    sdk = openai.OpenAI(base_url=live_server.api_url, api_key=tenant.admin_key, max_retries=0)
    # When the cheapest rule routes the call (gpt-4o-mini first, gpt-4o as failover)
    with pytest.raises(openai.APIStatusError) as refused:
        sdk.chat.completions.create(**request)  # type: ignore[call-overload]
    # Then it is refused before any provider call: the reservation had to cover gpt-4o too
    assert refused.value.status_code == 402 and upstream.requests == []
    # And with a rule whose only target is the cheap model, the same call fits the budget
    admin.put(
        f"/v1/routing-rules/{rule['id']}",
        json=rule_body("cheap", 1, {"model": "smart"}, {"type": "route", "targets": ["openai/gpt-4o-mini"]}),
    )
    answer = sdk.chat.completions.with_raw_response.create(**request)  # type: ignore[call-overload]
    assert answer.headers["x-tollgate-model"] == "gpt-4o-mini"
