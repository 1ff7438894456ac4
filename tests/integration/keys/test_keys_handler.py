"""The `keys` Lambda handler with API Gateway HTTP API v2 sample events for credentials."""

from __future__ import annotations

import json
import uuid
from typing import Any

from functions.keys.handler import handler
from tests.fakes.lambda_context import FakeLambdaContext
from tests.support import Tenant, load_event
from tollgate.wiring import Services

SAMPLE_ID = "00000000-0000-4000-8000-000000000000"


def invoke(name: str, key: str, credential_id: str | None = None, body: dict[str, Any] | None = None) -> dict[str, Any]:
    event = load_event(f"keys/{name}.json")
    event["headers"] = {**event["headers"], "authorization": f"Bearer {key}"}
    if credential_id is not None:
        event["rawPath"] = event["rawPath"].replace(SAMPLE_ID, credential_id)
        event["requestContext"]["http"]["path"] = event["rawPath"]
    if body is not None:
        event["body"] = json.dumps(body)
    result: dict[str, Any] = handler(event, FakeLambdaContext("tollgate-keys"))
    return result


def test_credential_events_through_the_lambda_handler(services: Services, tenant: Tenant) -> None:
    created = invoke("create_credential", tenant.admin_key)
    assert created["statusCode"] == 201, created["body"]
    body = json.loads(created["body"])
    assert body["is_primary"] and body["key_hint"] == "sk-...0000"
    assert "sk-replace-me" not in created["body"]
    listed = json.loads(invoke("list_credentials", tenant.admin_key)["body"])
    assert [c["id"] for c in listed["data"]] == [body["id"]]
    rotated = invoke("rotate_credential", tenant.admin_key, body["id"])
    assert rotated["statusCode"] == 200 and json.loads(rotated["body"])["key_hint"] == "sk-...1111"
    (target,) = services.credentials.targets_for(tenant.workspace_id, "openai")
    assert target.api_key == "sk-replace-me-1111"
    tested = json.loads(invoke("test_credential", tenant.admin_key, body["id"])["body"])
    assert set(tested) >= {"ok", "latency_ms"}
    assert invoke("delete_credential", tenant.admin_key, body["id"])["statusCode"] == 200
    missing = invoke("delete_credential", tenant.admin_key, body["id"])
    assert missing["statusCode"] == 404 and json.loads(missing["body"])["error"]["type"] == "not_found_error"


def test_handler_bad_input_and_unknown_ids(services: Services, tenant: Tenant) -> None:
    bad = invoke("create_credential", tenant.admin_key, body={"provider": "openai", "name": "x"})
    assert bad["statusCode"] == 400 and "body.api_key" in bad["body"]
    unknown = invoke("rotate_credential", tenant.admin_key, str(uuid.uuid4()))
    assert unknown["statusCode"] == 404
    denied = invoke("list_credentials", "tg_nope_nope")
    assert denied["statusCode"] == 401
