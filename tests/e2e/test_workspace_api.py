"""GET/PATCH /v1/workspace over HTTP: the caller's own workspace, its unpriced policy and display currency."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.fake_providers.base import FakeProvider, running
from tests.fake_providers.openai_server import fake_openai
from tests.support import ROOT_KEY, LiveServer, Tenant, make_key, make_tenant


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def upstream() -> Iterator[FakeProvider]:
    with running(fake_openai()) as server:
        yield server


def test_admin_reads_and_changes_its_own_workspace(live_server: LiveServer, tenant: Tenant) -> None:
    with httpx.Client(base_url=live_server.base_url, headers=auth(tenant.admin_key), timeout=10) as http:
        # Given a fresh workspace
        got = http.get("/v1/workspace")
        assert got.status_code == 200, got.text
        assert got.json()["id"] == str(tenant.workspace_id)
        assert (got.json()["name"], got.json()["unpriced_policy"], got.json()["display_currency"]) == (
            "acme",
            "block_unpriced",
            None,
        )
        # When the admin renames it, sets the policy and a display currency (any case)
        patched = http.patch(
            "/v1/workspace", json={"name": "Acme Ltd", "unpriced_policy": "estimate", "display_currency": "zar"}
        )
        # Then it is stored and read back the same way
        assert patched.status_code == 200, patched.text
        expected = {"name": "Acme Ltd", "unpriced_policy": "estimate", "display_currency": "ZAR"}
        assert {k: patched.json()[k] for k in expected} == expected
        assert {k: http.get("/v1/workspace").json()[k] for k in expected} == expected
        # And a partial PATCH leaves the other fields alone; null switches the currency off
        only_currency = http.patch("/v1/workspace", json={"display_currency": None}).json()
        assert (only_currency["name"], only_currency["display_currency"]) == ("Acme Ltd", None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_currency": "XYZ"}, "body.display_currency"),
        ({"display_currency": "euro"}, "body.display_currency"),
        ({"display_currency": 978}, "body.display_currency"),
        ({"unpriced_policy": "free"}, "body.unpriced_policy"),
        ({"unpriced_policy": None}, "unpriced_policy cannot be null"),
        ({"name": ""}, "body.name"),
        ({"name": None}, "name cannot be null"),
        ({"store_prompts": True}, "body.store_prompts"),
    ],
)
def test_invalid_patches_are_400_naming_the_field(
    live_server: LiveServer, tenant: Tenant, body: dict[str, object], field: str
) -> None:
    response = httpx.patch(f"{live_server.base_url}/v1/workspace", json=body, headers=auth(tenant.admin_key))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and field in error["message"] and error["request_id"]
    assert (
        httpx.get(f"{live_server.base_url}/v1/workspace", headers=auth(tenant.admin_key)).json()["display_currency"]
        is None
    )


def test_roles_and_tenancy(live_server: LiveServer, tenant: Tenant) -> None:
    services = live_server.services
    member = make_key(services, tenant.workspace_id, "member")
    other = make_tenant(services, "globex")
    base = live_server.base_url
    for key in (member, ROOT_KEY):
        for method in ("GET", "PATCH"):
            response = httpx.request(method, f"{base}/v1/workspace", json={"name": "x"}, headers=auth(key))
            assert response.status_code == 403, (method, response.text)
            assert response.json()["error"]["type"] == "permission_error"
    assert httpx.get(f"{base}/v1/workspace").status_code == 401
    # an admin changes only its own workspace
    httpx.patch(f"{base}/v1/workspace", json={"display_currency": "EUR"}, headers=auth(other.admin_key))
    assert httpx.get(f"{base}/v1/workspace", headers=auth(tenant.admin_key)).json()["display_currency"] is None
    assert httpx.get(f"{base}/v1/workspace", headers=auth(other.admin_key)).json()["display_currency"] == "EUR"


def test_the_unpriced_policy_set_here_decides_the_next_call(
    live_server: LiveServer, tenant: Tenant, upstream: FakeProvider
) -> None:
    admin = httpx.Client(base_url=live_server.base_url, headers=auth(tenant.admin_key), timeout=10)
    created = admin.post(
        "/v1/credentials",
        json={"provider": "openai", "name": "main", "api_key": "sk-test-" + "w" * 30, "base_url": upstream.url + "/v1"},
    )
    assert created.status_code == 201, created.text
    sdk = openai.OpenAI(base_url=live_server.api_url, api_key=tenant.admin_key, max_retries=0)
    messages = [{"role": "user", "content": "hi"}]
    # Given the default policy, a model without a price is refused before the upstream is called
    with pytest.raises(openai.APIStatusError) as refused:
        sdk.chat.completions.create(model="openai/gpt-unpriced-test-1", messages=messages, max_tokens=8)  # type: ignore[arg-type]
    assert refused.value.status_code == 409 and upstream.requests == []
    # When the admin switches the workspace to `estimate`
    assert admin.patch("/v1/workspace", json={"unpriced_policy": "estimate"}).status_code == 200
    # Then the same call goes through, priced as an estimate
    answer = sdk.chat.completions.create(model="openai/gpt-unpriced-test-1", messages=messages, max_tokens=8)  # type: ignore[arg-type]
    assert answer.choices[0].message.content and len(upstream.requests) == 1
    record = admin.get("/v1/usage").json()["data"][0]
    assert record["estimated"] is True and record["status"] == "success"
