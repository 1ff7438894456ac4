"""Bad input on the foundation routes gets the documented error shape and status."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.support import ROOT_KEY, LiveServer, Tenant, assert_error, make_key, make_tenant


@pytest.fixture
def http(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.base_url, timeout=10)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


CHAT = "/v1/chat/completions"


def test_missing_and_invalid_keys(http: httpx.Client) -> None:
    assert_error(http.post(CHAT, json={}), 401, "authentication_error", "missing_api_key")
    assert_error(http.post(CHAT, json={}, headers=auth("sk-not-ours")), 401, "authentication_error")
    assert_error(http.post(CHAT, json={}, headers=auth("tg_nope_nope")), 401, "authentication_error")
    assert_error(http.post(CHAT, json={}, headers={"Authorization": "Basic abc"}), 401, "authentication_error")


def test_x_api_key_header_is_accepted(http: httpx.Client, tenant: Tenant) -> None:
    body = {"model": "mock/echo", "messages": [{"role": "user", "content": "hi"}]}
    assert http.post(CHAT, json=body, headers={"x-api-key": tenant.admin_key}).status_code == 200


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"{not json", "Malformed JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"model": "mock/echo"}', "body.messages: Field required"),
        (b'{"model": 5, "messages": [{"role": "user", "content": "x"}]}', "body.model"),
        (b'{"model": "mock/echo", "messages": [{"role": "robot", "content": "x"}]}', "body.messages.0.role"),
        (b'{"model": "mock/echo", "messages": [], "stream": true}', "body.messages"),
        (
            b'{"model": "mock/echo", "messages": [{"role": "user", "content": "x"}], "max_tokens": "lots"}',
            "body.max_tokens",
        ),
        (
            b'{"model": "mock/echo", "messages": [{"role": "user", "content": "x"}], "temperature": 9}',
            "body.temperature",
        ),
        (
            b'{"model": "mock/echo", "messages": [{"role": "user", "content": "x"}], "stream": true, '
            b'"stream_options": "yes"}',
            "body.stream_options",
        ),
        (
            b'{"model": "mock/echo", "messages": [{"role": "user", "content": "x"}], "stream": true, '
            b'"stream_options": {"include_usage": "sometimes"}}',
            "body.stream_options.include_usage",
        ),
        # typed fields are strict, as OpenAI's API is: a string is not read as a boolean or a number
        (b'{"model": "mock/echo", "messages": [{"role": "user", "content": "x"}], "stream": "true"}', "body.stream"),
        (
            b'{"model": "mock/echo", "messages": [{"role": "user", "content": "x"}], "max_tokens": "5"}',
            "body.max_tokens",
        ),
        (
            b'{"model": "mock/echo", "messages": [{"role": "user", "content": "x"}], "stream": true, '
            b'"stream_options": {"include_usage": "yes"}}',
            "body.stream_options.include_usage",
        ),
        (b"", "body is required"),
    ],
)
def test_malformed_chat_bodies(http: httpx.Client, tenant: Tenant, raw: bytes, fragment: str) -> None:
    response = http.post(CHAT, content=raw, headers={**auth(tenant.admin_key), "content-type": "application/json"})
    error = assert_error(response, 400, "invalid_request_error")
    assert fragment in error["message"]


def test_body_over_one_megabyte_is_refused(http: httpx.Client, tenant: Tenant) -> None:
    huge = b'{"model": "mock/echo", "messages": [{"role": "user", "content": "' + b"x" * 1_100_000 + b'"}]}'
    response = http.post(CHAT, content=huge, headers=auth(tenant.admin_key))
    assert_error(response, 413, "invalid_request_error", "body_too_large")


def test_unknown_provider_and_route(http: httpx.Client, tenant: Tenant) -> None:
    body = {"model": "nosuch/model", "messages": [{"role": "user", "content": "x"}]}
    assert_error(
        http.post(CHAT, json=body, headers=auth(tenant.admin_key)), 400, "invalid_request_error", "unknown_model"
    )
    assert_error(http.get("/v1/nothing-here", headers=auth(tenant.admin_key)), 404, "not_found_error")
    assert_error(http.put(CHAT, json={}, headers=auth(tenant.admin_key)), 405, "invalid_request_error")


def test_workspace_and_key_routes_enforce_roles(http: httpx.Client, tenant: Tenant, live_server: LiveServer) -> None:
    member = make_key(live_server.services, tenant.workspace_id, "member")
    # members cannot manage keys; admins cannot manage workspaces; root cannot execute
    assert_error(http.get("/v1/keys", headers=auth(member)), 403, "permission_error")
    assert_error(http.post("/v1/keys", json={"name": "x"}, headers=auth(member)), 403, "permission_error")
    assert_error(
        http.post("/v1/workspaces", json={"name": "x"}, headers=auth(tenant.admin_key)), 403, "permission_error"
    )
    body = {"model": "mock/echo", "messages": [{"role": "user", "content": "x"}]}
    assert_error(http.post(CHAT, json=body, headers=auth(ROOT_KEY)), 403, "permission_error")


def test_a_403_names_the_path_as_sent_and_the_role_it_needs(
    http: httpx.Client, tenant: Tenant, live_server: LiveServer
) -> None:
    # Given a member key and an admin key
    member = make_key(live_server.services, tenant.workspace_id, "member")
    # When the member writes a price and the admin refreshes the feeds (root only)
    price = {"input_per_1m": "1", "output_per_1m": "2"}
    by_member = assert_error(
        http.put("/v1/pricing/custom/my-model", json=price, headers=auth(member)), 403, "permission_error"
    )
    by_admin = assert_error(http.post("/v1/pricing/refresh", headers=auth(tenant.admin_key)), 403, "permission_error")
    # Then each message names the request as sent (not the route pattern) and who may send it
    assert by_member["message"] == "A member key cannot PUT /v1/pricing/custom/my-model (allowed: admin, root)"
    assert by_admin["message"] == "An admin key cannot POST /v1/pricing/refresh (allowed: root)"


def test_bootstrap_with_root_key_then_admin_key(http: httpx.Client) -> None:
    created = http.post("/v1/workspaces", json={"name": "beta"}, headers=auth(ROOT_KEY))
    assert created.status_code == 201
    workspace_id = created.json()["id"]
    key = http.post(
        "/v1/keys", json={"workspace_id": workspace_id, "name": "first", "role": "admin"}, headers=auth(ROOT_KEY)
    )
    assert key.status_code == 201
    secret = key.json()["key"]
    assert secret.startswith("tg_")
    listed = http.get("/v1/keys", headers=auth(secret)).json()
    assert [k["name"] for k in listed["data"]] == ["first"]
    assert "key" not in listed["data"][0] and "secret_hash" not in listed["data"][0]
    workspaces = http.get("/v1/workspaces", headers=auth(ROOT_KEY)).json()
    assert workspace_id in [w["id"] for w in workspaces["data"]]


def test_key_routes_bad_input(http: httpx.Client, tenant: Tenant) -> None:
    h = auth(tenant.admin_key)
    assert_error(http.post("/v1/keys", json={"name": "x", "role": "owner"}, headers=h), 400, "invalid_request_error")
    assert_error(http.post("/v1/keys", json={"name": ""}, headers=h), 400, "invalid_request_error")
    assert_error(http.post("/v1/keys", json={"name": "x", "colour": "red"}, headers=h), 400, "invalid_request_error")
    assert_error(http.post("/v1/keys", json={"name": "x" * 500}, headers=h), 400, "invalid_request_error")
    assert_error(http.post("/v1/workspaces", json={"name": 7}, headers=auth(ROOT_KEY)), 400, "invalid_request_error")
    assert_error(http.post("/v1/keys", json={"name": "x"}, headers=auth(ROOT_KEY)), 400, "invalid_request_error")
    assert_error(http.get("/v1/keys?limit=0", headers=h), 400, "invalid_request_error")
    assert_error(http.get("/v1/keys?cursor=%%%", headers=h), 400, "invalid_request_error")
    assert_error(http.delete(f"/v1/keys/{uuid.uuid4()}", headers=h), 404, "not_found_error")
    assert_error(http.delete("/v1/keys/not-a-uuid", headers=h), 404, "not_found_error")


def test_other_workspaces_ids_are_not_found(http: httpx.Client, tenant: Tenant, live_server: LiveServer) -> None:
    other = make_tenant(live_server.services, "other")
    # B's admin cannot revoke A's key, nor mint keys into A's workspace
    response = http.delete(f"/v1/keys/{tenant.admin_key_id}", headers=auth(other.admin_key))
    assert_error(response, 404, "not_found_error")
    response = http.post(
        "/v1/keys", json={"name": "x", "workspace_id": str(tenant.workspace_id)}, headers=auth(other.admin_key)
    )
    assert_error(response, 404, "not_found_error")
    # and A's key still works
    assert http.get("/v1/keys", headers=auth(tenant.admin_key)).status_code == 200


def test_health_and_openapi(http: httpx.Client) -> None:
    health = http.get("/health")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    spec = http.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "post" in spec["paths"]["/v1/chat/completions"]
    assert "/v1/keys/{id}" in spec["paths"]
