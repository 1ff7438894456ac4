"""The Lambda entry points CDK points at, invoked with the sample events in events/."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from functions.execute.handler import handler as execute_handler
from functions.keys.handler import handler as keys_handler
from tests.fakes.lambda_context import FakeLambdaContext
from tests.support import ROOT_KEY, Tenant, load_event
from tollgate.db.models import UsageRecord
from tollgate.wiring import Services


def with_key(event: dict[str, Any], key: str) -> dict[str, Any]:
    event["headers"] = {**event["headers"], "authorization": f"Bearer {key}"}
    return event


def test_execute_handler_answers_and_records_usage(services: Services, tenant: Tenant) -> None:
    result = execute_handler(with_key(load_event("execute/chat.json"), tenant.admin_key), FakeLambdaContext())
    assert result["statusCode"] == 200, result["body"]
    body = json.loads(result["body"])
    assert body["choices"][0]["message"]["content"] == "Say hello to Tollgate"
    assert result["headers"]["x-tollgate-provider"] == "mock"
    with services.sessions() as session:
        row = session.scalars(select(UsageRecord)).one()
    assert (row.workflow, row.agent, row.request_id) == ("onboarding", "greeter", result["headers"]["x-request-id"])


def test_execute_handler_buffers_a_stream_into_one_sse_body(services: Services, tenant: Tenant) -> None:
    event = with_key(load_event("execute/chat_stream.json"), tenant.admin_key)
    result = execute_handler(event, FakeLambdaContext())
    assert result["statusCode"] == 200
    assert result["headers"]["content-type"] == "text/event-stream"
    events = [line for line in result["body"].split("\n\n") if line]
    assert events[-1] == "data: [DONE]"
    final = json.loads(events[-2].removeprefix("data: "))
    assert final["usage"]["completion_tokens"] > 0


def test_execute_handler_rejects_missing_key_with_error_shape(services: Services) -> None:
    event = load_event("execute/chat.json")
    event["headers"] = {k: v for k, v in event["headers"].items() if k != "authorization"}
    result = execute_handler(event, FakeLambdaContext())
    assert result["statusCode"] == 401
    assert json.loads(result["body"])["error"]["type"] == "authentication_error"


def test_keys_handler_bootstraps_a_workspace_and_key(services: Services) -> None:
    created = keys_handler(with_key(load_event("keys/create_workspace.json"), ROOT_KEY), FakeLambdaContext())
    assert created["statusCode"] == 201
    workspace_id = json.loads(created["body"])["id"]
    event = with_key(load_event("keys/create_key.json"), ROOT_KEY)
    event["body"] = json.dumps({"name": "ci", "role": "admin", "workspace_id": workspace_id})
    key = keys_handler(event, FakeLambdaContext())
    assert key["statusCode"] == 201
    secret = json.loads(key["body"])["key"]
    listed = keys_handler(with_key(load_event("keys/list_keys.json"), secret), FakeLambdaContext())
    assert [k["name"] for k in json.loads(listed["body"])["data"]] == ["ci"]


def test_keys_handler_does_not_serve_execute_routes(services: Services, tenant: Tenant) -> None:
    result = keys_handler(with_key(load_event("execute/chat.json"), tenant.admin_key), FakeLambdaContext())
    assert result["statusCode"] == 404


def test_execute_handler_serves_anthropic_messages_as_one_buffered_event_stream(
    services: Services, tenant: Tenant
) -> None:
    event = load_event("execute/messages_stream.json")
    event["headers"]["x-api-key"] = tenant.admin_key
    result = execute_handler(event, FakeLambdaContext())
    assert result["statusCode"] == 200, result["body"]
    names = [block.split("\n", 1)[0] for block in result["body"].strip().split("\n\n")]
    assert names[0] == "event: message_start" and names[-2:] == ["event: message_delta", "event: message_stop"]
    assert result["headers"]["request-id"] == result["headers"]["x-request-id"]


def test_execute_handler_answers_anthropic_errors_in_anthropics_shape(services: Services) -> None:
    event = load_event("execute/messages_stream.json")
    result = execute_handler(event, FakeLambdaContext())  # the sample's key is a placeholder
    assert result["statusCode"] == 401
    body = json.loads(result["body"])
    assert body["type"] == "error" and body["error"]["type"] == "authentication_error"


def test_execute_handler_serves_embeddings_from_the_mock(services: Services, tenant: Tenant) -> None:
    result = execute_handler(with_key(load_event("execute/embeddings.json"), tenant.admin_key), FakeLambdaContext())
    assert result["statusCode"] == 200, result["body"]
    body = json.loads(result["body"])
    [item] = body["data"]
    assert len(item["embedding"]) == 16 and abs(sum(v * v for v in item["embedding"]) - 1) < 1e-9
    assert body["usage"]["prompt_tokens"] == body["usage"]["total_tokens"] > 0
    assert result["headers"]["x-tollgate-cost-usd"]
