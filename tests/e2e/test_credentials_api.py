"""Provider credentials over HTTP: create/list/get/patch/delete/test/rotate, roles, tenancy, bad input."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import openai
import pytest

from tests.fakes.key_custody import RecordingAdapter, registry_with
from tests.support import ROOT_KEY, LiveServer, Tenant, assert_error, make_key, make_tenant, run_server
from tollgate.db.models import ModelPrice
from tollgate.wiring import Services

FIELDS = {
    "id", "provider", "name", "base_url", "default_model", "options", "priority", "is_primary", "is_active",
    "key_hint", "has_key", "free", "models", "created_at", "updated_at", "rotated_at",
}  # fmt: skip


@pytest.fixture
def openai_fake() -> RecordingAdapter:
    return RecordingAdapter("openai")


@pytest.fixture
def server(services: Services, openai_fake: RecordingAdapter) -> Iterator[LiveServer]:
    services.providers = registry_with(openai_fake, RecordingAdapter("custom"))
    add_price(services, "openai", "gpt-4o-mini")
    with run_server(services) as live:
        yield live


def add_price(services: Services, provider: str, model: str) -> None:
    with services.sessions.begin() as session:
        session.add(
            ModelPrice(
                provider=provider, model=model, source="manual", input_per_1m=Decimal("0.15"),
                output_per_1m=Decimal("0.60"), max_output_tokens=4096, effective_from=datetime(2020, 1, 1, tzinfo=UTC),
            )
        )  # fmt: skip


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def new_key(tag: str = "") -> str:
    return f"sk-test-{tag}{uuid.uuid4().hex}"


def create(http: httpx.Client, key: str, **body: Any) -> httpx.Response:
    payload = {"provider": "openai", "name": f"c{uuid.uuid4().hex[:8]}", "api_key": new_key(), **body}
    return http.post("/v1/credentials", json=payload, headers=auth(key))


def test_create_get_list_patch_delete(http: httpx.Client, tenant: Tenant) -> None:
    h = auth(tenant.admin_key)
    secret = new_key()
    # Given a new OpenAI credential without base_url
    created = http.post(
        "/v1/credentials", json={"provider": "openai", "name": "main", "api_key": secret, "priority": 5}, headers=h
    )
    assert created.status_code == 201, created.text
    body = created.json()
    # Then the response carries the documented fields, a default base_url and only a hint of the key
    assert set(body) == FIELDS
    assert body["base_url"] == "https://api.openai.com/v1"
    assert body["key_hint"] == f"sk-...{secret[-4:]}" and body["has_key"] is True
    assert secret not in created.text
    assert body["rotated_at"] is None and body["is_active"] is True and body["priority"] == 5
    # And get/list show the same
    got = http.get(f"/v1/credentials/{body['id']}", headers=h).json()
    assert got == body
    listed = http.get("/v1/credentials", headers=h).json()
    assert [c["id"] for c in listed["data"]] == [body["id"]] and listed["next_cursor"] is None
    # When it is patched
    patched = http.patch(
        f"/v1/credentials/{body['id']}",
        json={"name": "renamed", "priority": 1, "default_model": "gpt-4o-mini", "is_active": False},
        headers=h,
    ).json()
    assert (patched["name"], patched["priority"], patched["default_model"], patched["is_active"]) == (
        "renamed", 1, "gpt-4o-mini", False,
    )  # fmt: skip
    assert patched["key_hint"] == body["key_hint"]
    # Then delete removes it
    assert http.delete(f"/v1/credentials/{body['id']}", headers=h).status_code == 200
    assert_error(http.get(f"/v1/credentials/{body['id']}", headers=h), 404, "not_found_error")
    assert_error(http.delete(f"/v1/credentials/{body['id']}", headers=h), 404, "not_found_error")


def test_list_paginates(http: httpx.Client, tenant: Tenant) -> None:
    h = auth(tenant.admin_key)
    ids = {create(http, tenant.admin_key).json()["id"] for _ in range(3)}
    first = http.get("/v1/credentials?limit=2", headers=h).json()
    assert len(first["data"]) == 2 and first["next_cursor"]
    second = http.get(f"/v1/credentials?limit=2&cursor={first['next_cursor']}", headers=h).json()
    assert len(second["data"]) == 1 and second["next_cursor"] is None
    assert {c["id"] for c in first["data"] + second["data"]} == ids


def test_one_primary_per_workspace(http: httpx.Client, tenant: Tenant) -> None:
    h = auth(tenant.admin_key)
    first = create(http, tenant.admin_key, is_primary=True).json()
    second = create(http, tenant.admin_key, provider="anthropic", is_primary=True).json()
    # creating a new primary clears the old one
    assert http.get(f"/v1/credentials/{first['id']}", headers=h).json()["is_primary"] is False
    assert second["is_primary"] is True
    # patching the first back to primary clears the second
    assert http.patch(f"/v1/credentials/{first['id']}", json={"is_primary": True}, headers=h).json()["is_primary"]
    assert http.get(f"/v1/credentials/{second['id']}", headers=h).json()["is_primary"] is False
    primaries = [c for c in http.get("/v1/credentials", headers=h).json()["data"] if c["is_primary"]]
    assert [c["id"] for c in primaries] == [first["id"]]


def test_names_are_unique_per_workspace_only(http: httpx.Client, tenant: Tenant, server: LiveServer) -> None:
    assert create(http, tenant.admin_key, name="dup").status_code == 201
    assert_error(create(http, tenant.admin_key, name="dup"), 409, "invalid_request_error")
    other = create(http, tenant.admin_key, name="other").json()
    clash = http.patch(f"/v1/credentials/{other['id']}", json={"name": "dup"}, headers=auth(tenant.admin_key))
    assert_error(clash, 409, "invalid_request_error")
    # another workspace may use the same name
    b = make_tenant(server.services, "b")
    assert create(http, b.admin_key, name="dup").status_code == 201


def test_yandex_needs_folder_id_and_custom_needs_base_url(http: httpx.Client, tenant: Tenant) -> None:
    error = assert_error(create(http, tenant.admin_key, provider="yandex", api_key="AQVN" + "x" * 30), 400,
                         "invalid_request_error")  # fmt: skip
    assert "folder_id" in error["message"]
    ok = create(http, tenant.admin_key, provider="yandex", api_key="AQVN" + "y" * 30, options={"folder_id": "b1g"})
    assert ok.status_code == 201 and ok.json()["options"] == {"folder_id": "b1g"}
    assert ok.json()["base_url"] == "https://llm.api.cloud.yandex.net" and ok.json()["key_hint"].startswith("AQVN...")
    dropped = http.patch(f"/v1/credentials/{ok.json()['id']}", json={"options": {}}, headers=auth(tenant.admin_key))
    assert_error(dropped, 400, "invalid_request_error")
    assert (
        "base_url"
        in assert_error(create(http, tenant.admin_key, provider="custom"), 400, "invalid_request_error")["message"]
    )
    custom = create(http, tenant.admin_key, provider="custom", base_url="https://llm.example.com/v1/")
    assert custom.status_code == 201 and custom.json()["base_url"] == "https://llm.example.com/v1"


@pytest.mark.parametrize(
    "base_url",
    [
        "http://api.example.com/v1",  # plain http to a public host
        "ftp://api.example.com",
        "https://user:pass@api.example.com",
        "https://api.example.com/v1#frag",
        "https://api.example.com/v1?key=abc",
        "https://10.0.0.5/v1",
        "https://169.254.169.254/latest",
        "https://[fd00::1]/v1",
        "https://192.168.1.10",
        "not a url",
        "https://",
        "https://api.example.com:99999",
        "https://x" + "a" * 600 + ".com",
    ],
)
def test_invalid_base_urls_are_refused(http: httpx.Client, tenant: Tenant, base_url: str) -> None:
    error = assert_error(create(http, tenant.admin_key, base_url=base_url), 400, "invalid_request_error")
    assert "base_url" in error["message"]


def test_localhost_base_url_follows_the_local_network_flag(
    http: httpx.Client, tenant: Tenant, server: LiveServer
) -> None:
    # the test services run with allow_local_network=True
    assert create(http, tenant.admin_key, base_url="http://127.0.0.1:9/v1").status_code == 201
    assert create(http, tenant.admin_key, base_url="http://localhost:9/v1").status_code == 201
    server.services.settings.allow_local_network = False
    del server.services.__dict__["credential_service"]
    error = assert_error(create(http, tenant.admin_key, base_url="http://127.0.0.1:9/v1"), 400, "invalid_request_error")
    assert "TOLLGATE_ALLOW_LOCAL_NETWORK" in error["message"]
    assert_error(create(http, tenant.admin_key, base_url="https://localhost/v1"), 400, "invalid_request_error")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"provider": "openai", "name": "x"}, "body.api_key"),
        ({"provider": "nosuch", "name": "x", "api_key": "sk-1"}, "body.provider"),
        ({"provider": "openai", "name": "x", "api_key": 123}, "body.api_key"),
        ({"provider": "openai", "name": "x", "api_key": ""}, "body.api_key"),
        ({"provider": "openai", "name": "x", "api_key": "sk-1 2\r\nx-evil: 1"}, "body.api_key"),
        ({"provider": "openai", "name": "x", "api_key": "sk-" + "k" * 5000}, "body.api_key"),
        ({"provider": "openai", "name": "n" * 500, "api_key": "sk-1"}, "body.name"),
        ({"provider": "openai", "name": "has space", "api_key": "sk-1"}, "body.name"),
        ({"provider": "openai", "name": "x", "api_key": "sk-1", "priority": "high"}, "body.priority"),
        ({"provider": "openai", "name": "x", "api_key": "sk-1", "priority": -1}, "body.priority"),
        ({"provider": "openai", "name": "x", "api_key": "sk-1", "is_primary": "maybe"}, "body.is_primary"),
        ({"provider": "openai", "name": "x", "api_key": "sk-1", "options": ["a"]}, "body.options"),
        ({"provider": "openai", "name": "x", "api_key": "sk-1", "options": {"v": "x" * 5000}}, "body.options"),
        ({"provider": "openai", "name": "x", "api_key": "sk-1", "base_url": 5}, "body.base_url"),
        ({"provider": "openai", "name": "x", "api_key": "sk-1", "colour": "red"}, "body.colour"),
        ({"name": "x", "api_key": "sk-1"}, "body.provider"),
    ],
)
def test_bad_create_bodies(http: httpx.Client, tenant: Tenant, body: dict[str, Any], fragment: str) -> None:
    for path in ("/v1/credentials", "/v1/credentials/test"):
        error = assert_error(http.post(path, json=body, headers=auth(tenant.admin_key)), 400, "invalid_request_error")
        assert fragment in error["message"]
        assert "sk-1" not in error["message"] and "kkkk" not in error["message"]


def test_bad_patch_and_rotate_bodies(http: httpx.Client, tenant: Tenant) -> None:
    h = auth(tenant.admin_key)
    cid = create(http, tenant.admin_key).json()["id"]
    body: dict[str, Any]
    for body in (
        {"provider": "anthropic"},
        {"priority": "x"},
        {"name": None},
        {"is_active": None},
        {"base_url": "http://example.com"},
        {"api_key": ""},
        {"name": "n" * 101},
    ):
        assert_error(http.patch(f"/v1/credentials/{cid}", json=body, headers=h), 400, "invalid_request_error")
    for body in ({}, {"api_key": 5}, {"api_key": "sk-" + "z" * 2000}, {"api_key": "sk-1", "extra": 1}):
        assert_error(http.post(f"/v1/credentials/{cid}/rotate", json=body, headers=h), 400, "invalid_request_error")
    assert_error(http.patch(f"/v1/credentials/{cid}", content=b"{nope", headers=h), 400, "invalid_request_error")
    for query in ("limit=0", "limit=501", "limit=x", "cursor=%25%25%25", "cursor=" + "a" * 3000, "colour=red"):
        assert_error(http.get(f"/v1/credentials?{query}", headers=h), 400, "invalid_request_error")


def test_rotate_replaces_key_and_hint(http: httpx.Client, tenant: Tenant, server: LiveServer) -> None:
    h = auth(tenant.admin_key)
    old, new = new_key("old"), new_key("new")
    cid = create(http, tenant.admin_key, api_key=old).json()["id"]
    with server.services.sessions() as session:
        from tollgate.db.models import ProviderCredential

        before = session.get(ProviderCredential, uuid.UUID(cid))
        assert before is not None
        old_ciphertext = before.key_ciphertext
    rotated = http.post(f"/v1/credentials/{cid}/rotate", json={"api_key": new}, headers=h)
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["key_hint"] == f"sk-...{new[-4:]}" and rotated.json()["rotated_at"] is not None
    with server.services.sessions() as session:
        after = session.get(ProviderCredential, uuid.UUID(cid))
        assert after is not None and after.key_ciphertext != old_ciphertext
    # and the saved-credential test now uses the new key
    assert http.post(f"/v1/credentials/{cid}/test", headers=h).json()["ok"] is True


def test_check_reports_ok_and_provider_errors(
    http: httpx.Client, tenant: Tenant, openai_fake: RecordingAdapter
) -> None:
    h = auth(tenant.admin_key)
    good = http.post("/v1/credentials/test", json={"provider": "openai", "name": "t", "api_key": "sk-good1"}, headers=h)
    assert good.status_code == 200 and good.json()["ok"] is True and good.json()["latency_ms"] >= 0
    assert good.json().get("error") is None
    assert openai_fake.keys_seen == ["sk-good1"]  # a real call through the adapter with the key
    # test-before-save saves nothing
    assert http.get("/v1/credentials", headers=h).json()["data"] == []
    bad = http.post("/v1/credentials/test", json={"provider": "openai", "name": "t", "api_key": "sk-x-bad"}, headers=h)
    assert bad.json()["ok"] is False and bad.json()["error"]["type"] == "provider_auth_error"
    assert "sk-x-bad" not in bad.text
    cid = create(http, tenant.admin_key, api_key="sk-y-poor").json()["id"]
    poor = http.post(f"/v1/credentials/{cid}/test", headers=h).json()
    assert poor["ok"] is False and poor["error"]["type"] == "provider_quota_error"
    # a provider without an adapter in this deployment answers ok=false with a clear error
    gem = http.post("/v1/credentials/test", json={"provider": "gemini", "name": "g", "api_key": "AIzaxxxxxxxxxxxxx"},
                    headers=h).json()  # fmt: skip
    assert (
        gem["ok"] is False and gem["error"]["type"] == "invalid_request_error" and "gemini" in gem["error"]["message"]
    )


def test_member_gets_403_on_every_management_route(http: httpx.Client, tenant: Tenant, server: LiveServer) -> None:
    member = auth(make_key(server.services, tenant.workspace_id, "member"))
    cid = create(http, tenant.admin_key).json()["id"]
    body = {"provider": "openai", "name": "m", "api_key": "sk-m"}
    for method, path, payload in routes_for(cid, body):
        assert_error(http.request(method, path, json=payload, headers=member), 403, "permission_error")
    for method, path, payload in (("POST", "/v1/keys", {"name": "x"}), ("GET", "/v1/keys", None)):
        assert_error(http.request(method, path, json=payload, headers=member), 403, "permission_error")
    assert_error(http.delete(f"/v1/keys/{tenant.admin_key_id}", headers=member), 403, "permission_error")
    # the root key manages workspaces, not credentials
    assert_error(http.get("/v1/credentials", headers=auth(ROOT_KEY)), 403, "permission_error")


def routes_for(cid: str, body: dict[str, Any]) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("POST", "/v1/credentials", body),
        ("GET", "/v1/credentials", None),
        ("GET", f"/v1/credentials/{cid}", None),
        ("PATCH", f"/v1/credentials/{cid}", {"priority": 1}),
        ("DELETE", f"/v1/credentials/{cid}", None),
        ("POST", "/v1/credentials/test", body),
        ("POST", f"/v1/credentials/{cid}/test", None),
        ("POST", f"/v1/credentials/{cid}/rotate", {"api_key": "sk-new-one"}),
    ]


def test_other_workspace_gets_404_everywhere_and_cannot_use_the_key(
    http: httpx.Client, tenant: Tenant, server: LiveServer, openai_fake: RecordingAdapter
) -> None:
    a_secret = new_key("a")
    a_cred = create(http, tenant.admin_key, name="a-cred", api_key=a_secret, is_primary=True).json()["id"]
    a_custom = create(http, tenant.admin_key, provider="custom", name="a-custom", base_url="https://a.example.com",
                      api_key=new_key("ac")).json()["id"]  # fmt: skip
    b = make_tenant(server.services, "b")
    hb = auth(b.admin_key)
    for cid in (a_cred, a_custom):
        for method, path, payload in routes_for(cid, {}):
            if "{" in path or path in ("/v1/credentials", "/v1/credentials/test"):
                continue
            assert_error(http.request(method, path, json=payload, headers=hb), 404, "not_found_error")
    assert_error(http.delete(f"/v1/keys/{tenant.admin_key_id}", headers=hb), 404, "not_found_error")
    assert all(c["id"] not in (a_cred, a_custom) for c in http.get("/v1/credentials", headers=hb).json()["data"])
    # B cannot execute through A's credentials, by provider, bare model id or custom name
    sdk = openai.OpenAI(base_url=server.api_url, api_key=b.admin_key, max_retries=0)
    for model in ("openai/gpt-4o-mini", "gpt-4o-mini", "custom:a-custom/m"):
        with pytest.raises(openai.BadRequestError) as caught:
            sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        assert caught.value.code == "no_credential"
    assert a_secret not in openai_fake.keys_seen
    # while A itself executes with its decrypted key
    sdk_a = openai.OpenAI(base_url=server.api_url, api_key=tenant.admin_key, max_retries=0)
    reply = sdk_a.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "hi"
    assert openai_fake.keys_seen[-1] == a_secret


def test_execute_sees_rotation_and_deactivation_at_once(
    http: httpx.Client, tenant: Tenant, server: LiveServer, openai_fake: RecordingAdapter
) -> None:
    h = auth(tenant.admin_key)
    first, second = new_key("first"), new_key("second")
    cid = create(http, tenant.admin_key, api_key=first).json()["id"]
    sdk = openai.OpenAI(base_url=server.api_url, api_key=tenant.admin_key, max_retries=0)
    messages = [{"role": "user", "content": "x"}]
    sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
    http.post(f"/v1/credentials/{cid}/rotate", json={"api_key": second}, headers=h)
    sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=messages)  # type: ignore[arg-type]
    assert openai_fake.keys_seen[-2:] == [first, second]
    http.patch(f"/v1/credentials/{cid}", json={"is_active": False}, headers=h)
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=messages)  # type: ignore[arg-type]


def test_unknown_and_malformed_ids(http: httpx.Client, tenant: Tenant) -> None:
    h = auth(tenant.admin_key)
    for cid in (str(uuid.uuid4()), "not-a-uuid", "1"):
        for method, path, payload in routes_for(cid, {}):
            if f"/credentials/{cid}" not in path:
                continue
            assert_error(http.request(method, path, json=payload, headers=h), 404, "not_found_error")
