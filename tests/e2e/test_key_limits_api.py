"""Gateway key limits over HTTP with the stock openai SDK: set on create, changed by PATCH, shown by GET, and
enforced before the upstream is called (a fake OpenAI server on 127.0.0.1 records what reached it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import openai
import pytest

from tests.fake_providers.base import FakeProvider, running
from tests.fake_providers.openai_server import fake_openai
from tests.support import ROOT_KEY, LiveServer, Tenant, make_key, make_tenant

HI = [{"role": "user", "content": "hi"}]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def upstream(live_server: LiveServer, tenant: Tenant) -> Iterator[FakeProvider]:
    with running(fake_openai()) as server:
        created = httpx.post(
            f"{live_server.base_url}/v1/credentials",
            json={"provider": "openai", "name": "main", "api_key": "sk-" + "l" * 30, "base_url": server.url + "/v1"},
            headers=auth(tenant.admin_key),
        )
        assert created.status_code == 201, created.text
        yield server


@pytest.fixture
def admin(live_server: LiveServer, tenant: Tenant) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.base_url, headers=auth(tenant.admin_key), timeout=10) as client:
        yield client


def new_key(admin: httpx.Client, **limits: Any) -> tuple[str, str]:
    created = admin.post("/v1/keys", json={"name": "limited", "role": "member", **limits})
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["key"]


def sdk(live_server: LiveServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=live_server.api_url, api_key=key, max_retries=0)


def test_limits_are_set_shown_changed_and_removed(admin: httpx.Client) -> None:
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    key_id, secret = new_key(
        admin,
        allowed_models=["openai/gpt-4o-mini*", " anthropic/* "],
        rpm_limit=60,
        tpm_limit=100000,
        max_cost_per_request_usd="0.05",
        expires_at=expires.isoformat(),
    )
    listed = {k["id"]: k for k in admin.get("/v1/keys").json()["data"]}[key_id]
    assert listed["allowed_models"] == ["openai/gpt-4o-mini*", "anthropic/*"]
    assert (listed["rpm_limit"], listed["tpm_limit"], listed["max_cost_per_request_usd"]) == (60, 100000, "0.05")
    assert datetime.fromisoformat(listed["expires_at"]) == expires
    assert secret.split("_")[2] not in str(listed)
    # PATCH changes what it names and leaves the rest; null removes a limit
    patched = admin.patch(f"/v1/keys/{key_id}", json={"rpm_limit": 5, "max_cost_per_request_usd": None})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["rpm_limit"], body["tpm_limit"], body["max_cost_per_request_usd"]) == (5, 100000, None)
    assert body["allowed_models"] == ["openai/gpt-4o-mini*", "anthropic/*"] and "key" not in body
    renamed = admin.patch(f"/v1/keys/{key_id}", json={"name": "ci", "allowed_models": None}).json()
    assert (renamed["name"], renamed["allowed_models"], renamed["rpm_limit"]) == ("ci", None, 5)
    # a key made without limits shows them as null
    plain_id, _ = new_key(admin)
    plain = {k["id"]: k for k in admin.get("/v1/keys").json()["data"]}[plain_id]
    limit_fields = ("allowed_models", "rpm_limit", "tpm_limit", "max_cost_per_request_usd", "expires_at")
    assert [plain[f] for f in limit_fields] == [None] * 5


def test_a_model_outside_the_list_is_403_before_the_upstream(
    live_server: LiveServer, admin: httpx.Client, upstream: FakeProvider
) -> None:
    _, secret = new_key(admin, allowed_models=["openai/gpt-4o-mini*", "mock/*"])
    client = sdk(live_server, secret)
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client.chat.completions.create(model="openai/gpt-4o", messages=HI, max_tokens=8)  # type: ignore[arg-type]
    error = refused.value.body
    assert isinstance(error, dict) and error["type"] == "permission_error" and error["code"] == "model_not_allowed"
    assert "openai/gpt-4o" in error["message"]
    assert upstream.requests == []
    # the models the list allows go through
    assert client.chat.completions.create(model="openai/gpt-4o-mini", messages=HI, max_tokens=8).choices  # type: ignore[arg-type]
    assert client.chat.completions.create(model="mock/echo", messages=HI, max_tokens=8).choices  # type: ignore[arg-type]
    assert len(upstream.requests) == 1
    # and the refused call is not billed
    usage = admin.get("/v1/usage").json()["data"]
    assert sorted(r["model"] for r in usage if r["status"] == "success") == ["echo", "gpt-4o-mini"]


def test_rpm_limit_is_429_with_retry_after_and_no_upstream_call(
    live_server: LiveServer, admin: httpx.Client, upstream: FakeProvider
) -> None:
    _, secret = new_key(admin, rpm_limit=2)
    client = sdk(live_server, secret)
    for _ in range(2):
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HI, max_tokens=8)  # type: ignore[arg-type]
    response = httpx.post(
        f"{live_server.api_url}/chat/completions",
        json={"model": "openai/gpt-4o-mini", "messages": HI, "max_tokens": 8},
        headers=auth(secret),
    )
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", "rpm_limit_exceeded")
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert len(upstream.requests) == 2
    # and the refused call leaves one refused row at cost 0, like every refusal before a provider call
    refused = [r for r in admin.get("/v1/usage").json()["data"] if r["request_id"] == response.headers["x-request-id"]]
    assert [(r["status"], r["error_type"], r["cost_usd"]) for r in refused] == [("refused", "rpm_limit_exceeded", "0")]


def test_tpm_limit_counts_the_tokens_of_recorded_calls(live_server: LiveServer, admin: httpx.Client) -> None:
    # mock/echo bills 4 tokens of framing per message plus ~1 token per 4 characters, both ways
    _, secret = new_key(admin, tpm_limit=30)
    client = sdk(live_server, secret)
    client.chat.completions.create(model="mock/echo", messages=[{"role": "user", "content": "x" * 100}])
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="mock/echo", messages=HI)  # type: ignore[arg-type]
    error = limited.value.body
    assert isinstance(error, dict) and error["code"] == "tpm_limit_exceeded"
    assert limited.value.response.headers["retry-after"].isdigit()


def test_worst_case_above_the_per_request_cap_is_402(
    live_server: LiveServer, admin: httpx.Client, upstream: FakeProvider
) -> None:
    _, secret = new_key(admin, max_cost_per_request_usd="0.001")
    client = sdk(live_server, secret)
    # gpt-4o-mini's output cap (16,384 tokens at $0.60/1M) makes the worst case about $0.0098
    with pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=HI)  # type: ignore[arg-type]
    assert refused.value.status_code == 402
    error = refused.value.body
    assert isinstance(error, dict) and (error["type"], error["code"]) == ("budget_exceeded", "max_cost_per_request")
    assert error["limit_usd"] == "0.001" and "max_tokens" in error["message"]
    assert upstream.requests == []
    # a bounded request fits
    assert client.chat.completions.create(model="openai/gpt-4o-mini", messages=HI, max_tokens=50).choices  # type: ignore[arg-type]
    assert len(upstream.requests) == 1


def test_expired_key_is_401_and_can_be_extended(live_server: LiveServer, admin: httpx.Client) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    key_id, secret = new_key(admin, expires_at=past)
    call = {"model": "mock/echo", "messages": HI}
    refused = httpx.post(f"{live_server.api_url}/chat/completions", json=call, headers=auth(secret))
    assert refused.status_code == 401
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("authentication_error", "expired_api_key")
    assert admin.patch(f"/v1/keys/{key_id}", json={"expires_at": None}).status_code == 200
    assert httpx.post(f"{live_server.api_url}/chat/completions", json=call, headers=auth(secret)).status_code == 200


def test_user_budget_caps_one_end_user(live_server: LiveServer, tenant: Tenant, admin: httpx.Client) -> None:
    budget = admin.post(
        "/v1/budgets",
        json={
            "name": "alice",
            "scope": "user",
            "scope_value": "alice",
            "period": "monthly",
            "limit_usd": "0.000001",
            "action": "block",
        },
    )
    assert budget.status_code == 201, budget.text
    client = sdk(live_server, tenant.admin_key)
    with pytest.raises(openai.APIStatusError) as by_field:
        client.chat.completions.create(model="mock/echo", messages=HI, user="alice")  # type: ignore[arg-type]
    assert by_field.value.status_code == 402
    with pytest.raises(openai.APIStatusError) as by_header:
        client.chat.completions.create(model="mock/echo", messages=HI, extra_headers={"X-Tollgate-User": "alice"})  # type: ignore[arg-type]
    assert by_header.value.status_code == 402
    assert client.chat.completions.create(model="mock/echo", messages=HI, user="bob").choices  # type: ignore[arg-type]
    assert client.chat.completions.create(model="mock/echo", messages=HI).choices  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rpm_limit": "many"}, "body.rpm_limit"),
        ({"rpm_limit": 0}, "body.rpm_limit"),
        ({"tpm_limit": -5}, "body.tpm_limit"),
        ({"allowed_models": "openai/*"}, "body.allowed_models"),
        ({"allowed_models": ["gpt-4o"]}, "body.allowed_models"),
        ({"allowed_models": ["openai/gpt 4o"]}, "body.allowed_models"),
        ({"allowed_models": ["custom:local/*"]}, "write custom/*"),  # matched as custom/<model>: never would
        ({"max_cost_per_request_usd": "0"}, "body.max_cost_per_request_usd"),
        ({"max_cost_per_request_usd": "abc"}, "body.max_cost_per_request_usd"),
        ({"expires_at": "2030-01-01T00:00:00"}, "body.expires_at"),
        ({"expires_at": "tomorrow"}, "body.expires_at"),
        ({"name": None}, "name cannot be null"),
        ({"role": "admin"}, "body.role"),
    ],
)
def test_invalid_patch_is_400_naming_the_field(admin: httpx.Client, body: dict[str, Any], field: str) -> None:
    key_id, _ = new_key(admin)
    response = admin.patch(f"/v1/keys/{key_id}", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and field in error["message"]
    created = admin.post("/v1/keys", json={"name": "bad", **{k: v for k, v in body.items() if k != "name"}})
    if "role" not in body and body.get("name", "") is not None:
        assert created.status_code == 400, created.text


def test_patch_roles_unknown_and_foreign_ids(live_server: LiveServer, tenant: Tenant, admin: httpx.Client) -> None:
    services = live_server.services
    key_id, _ = new_key(admin)
    member = make_key(services, tenant.workspace_id, "member")
    other = make_tenant(services, "globex")
    url = f"{live_server.base_url}/v1/keys"
    for key in (member, ROOT_KEY):
        response = httpx.patch(f"{url}/{key_id}", json={"rpm_limit": 1}, headers=auth(key))
        assert response.status_code == 403 and response.json()["error"]["type"] == "permission_error"
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        assert admin.patch(f"/v1/keys/{unknown}", json={"rpm_limit": 1}).status_code == 404
    foreign = httpx.patch(f"{url}/{key_id}", json={"rpm_limit": 1}, headers=auth(other.admin_key))
    assert foreign.status_code == 404 and foreign.json()["error"]["type"] == "not_found_error"
    assert {k["id"]: k for k in admin.get("/v1/keys").json()["data"]}[key_id]["rpm_limit"] is None
