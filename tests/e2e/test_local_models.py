"""Local models end to end: a custom credential for an Ollama-like server on 127.0.0.1, POST
/v1/credentials/{id}/discover, the models in GET /v1/models, a free credential priced at an explicit zero
(source free) and a non-free one still unpriced (409, never a silent $0)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.fake_providers.base import FakeProvider, Recorded, Reply, running
from tests.fake_providers.openai_server import completion
from tests.support import LiveServer, Tenant, make_key, make_tenant

HI = [{"role": "user", "content": "hi"}]
LOCAL_MODELS = {
    "object": "list",
    "data": [
        {"id": "qwen2.5-coder:7b", "object": "model", "created": 1730000000, "owned_by": "library"},
        {"id": "llama3.1:8b", "object": "model", "created": 1730000000, "owned_by": "library"},
        {"id": "llama3.1:8b", "object": "model", "created": 1730000000, "owned_by": "library"},
        {"object": "model"},
    ],
}


def ollama_like(request: Recorded) -> Reply:
    if request.method == "GET" and request.path == "/v1/models":
        return Reply(body=LOCAL_MODELS)
    if request.method == "POST" and request.path == "/v1/chat/completions":
        return Reply(body=completion())
    return Reply(status=404, body={"error": "not found"})


@pytest.fixture
def local_server() -> Iterator[FakeProvider]:
    with running(FakeProvider(ollama_like)) as server:
        yield server


@pytest.fixture
def admin(live_server: LiveServer, tenant: Tenant) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {tenant.admin_key}"}
    with httpx.Client(base_url=live_server.base_url, headers=headers, timeout=20) as client:
        yield client


def custom(admin: httpx.Client, name: str, base_url: str, **extra: object) -> str:
    created = admin.post(
        "/v1/credentials",
        json={"provider": "custom", "name": name, "api_key": "ollama", "base_url": base_url, **extra},
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_discover_free_and_unpriced_local_models(
    live_server: LiveServer, tenant: Tenant, admin: httpx.Client, local_server: FakeProvider
) -> None:
    free_id = custom(admin, "ollama", local_server.url + "/v1", free=True)
    paid_id = custom(admin, "vllm", local_server.url + "/v1")
    # When the admin discovers the models of both servers
    found = admin.post(f"/v1/credentials/{free_id}/discover")
    assert found.status_code == 200, found.text
    assert found.json() == {
        "credential_id": free_id,
        "models": ["llama3.1:8b", "qwen2.5-coder:7b"],
        "count": 2,
        "free": True,
    }
    assert admin.post(f"/v1/credentials/{paid_id}/discover").status_code == 200
    assert local_server.requests[0].path == "/v1/models"
    assert local_server.requests[0].headers["authorization"] == "Bearer ollama"
    assert admin.get(f"/v1/credentials/{free_id}").json()["models"] == ["llama3.1:8b", "qwen2.5-coder:7b"]

    # Then GET /v1/models lists them: the free server's at an explicit zero, the other one unpriced
    sdk = openai.OpenAI(base_url=live_server.api_url, api_key=tenant.admin_key, max_retries=0)
    listed = {m["id"]: m for m in httpx.get(f"{live_server.api_url}/models", headers=admin.headers).json()["data"]}
    free_entry = listed["custom:ollama/llama3.1:8b"]
    assert (free_entry["input_per_1m"], free_entry["output_per_1m"], free_entry["price_source"]) == ("0", "0", "free")
    assert "custom:ollama/qwen2.5-coder:7b" in listed
    paid_entry = listed["custom:vllm/llama3.1:8b"]
    assert (paid_entry["input_per_1m"], paid_entry["price_source"]) == (None, None)
    assert {m.id for m in sdk.models.list()} >= {"custom:ollama/llama3.1:8b", "custom:vllm/qwen2.5-coder:7b"}

    # And a call to the free model is served and recorded at zero under the default block_unpriced policy
    answer = sdk.chat.completions.with_raw_response.create(model="custom:ollama/llama3.1:8b", messages=HI)  # type: ignore[arg-type]
    assert answer.headers["x-tollgate-cost-usd"] == "0"
    record = admin.get("/v1/usage").json()["data"][0]
    assert (record["model"], record["cost_usd"], record["status"], record["estimated"]) == (
        "llama3.1:8b",
        "0",
        "success",
        False,
    )
    # while the same model on the non-free server is refused as unpriced, never billed as $0
    with pytest.raises(openai.APIStatusError) as unpriced:
        sdk.chat.completions.create(model="custom:vllm/llama3.1:8b", messages=HI)  # type: ignore[arg-type]
    assert unpriced.value.status_code == 409


def test_discover_errors_roles_and_tenancy(
    live_server: LiveServer, tenant: Tenant, admin: httpx.Client, local_server: FakeProvider
) -> None:
    services = live_server.services
    openai_id = admin.post("/v1/credentials", json={"provider": "openai", "name": "oa", "api_key": "sk-" + "d" * 30})
    refused = admin.post(f"/v1/credentials/{openai_id.json()['id']}/discover")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "discover_unsupported"
    bad_free = admin.post(
        "/v1/credentials", json={"provider": "openai", "name": "oa2", "api_key": "sk-" + "d" * 30, "free": True}
    )
    assert bad_free.status_code == 400 and "body.free" in bad_free.json()["error"]["message"]
    not_bool = {"provider": "custom", "name": "x", "api_key": "k", "base_url": local_server.url, "free": "maybe"}
    wrong_type = admin.post("/v1/credentials", json=not_bool)
    assert wrong_type.status_code == 400 and "body.free" in wrong_type.json()["error"]["message"]
    credential_id = custom(admin, "local", local_server.url + "/v1")
    patched = admin.patch(f"/v1/credentials/{credential_id}", json={"free": True})
    assert patched.status_code == 200 and patched.json()["free"] is True
    assert admin.patch(f"/v1/credentials/{credential_id}", json={"free": None}).status_code == 400
    member = make_key(services, tenant.workspace_id, "member")
    other = make_tenant(services, "globex")
    url = f"{live_server.base_url}/v1/credentials/{credential_id}/discover"
    assert httpx.post(url, headers={"Authorization": f"Bearer {member}"}).status_code == 403
    assert httpx.post(url, headers={"Authorization": f"Bearer {other.admin_key}"}).status_code == 404
    assert admin.post(f"/v1/credentials/{uuid.uuid4()}/discover").status_code == 404
    # an unreachable or failing server is a 502, and nothing is stored
    local_server.push(Reply(status=500, body={"error": "boom"}))
    failed = admin.post(f"/v1/credentials/{credential_id}/discover")
    assert failed.status_code == 502 and failed.json()["error"]["type"] == "provider_unavailable"
    assert admin.get(f"/v1/credentials/{credential_id}").json()["models"] is None
