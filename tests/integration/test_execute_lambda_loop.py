"""The execute Lambda runs the same async app on ONE event loop per container: invocations reuse
the loop and its pooled upstream connections, for plain and streamed calls (events/execute/*.json)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlalchemy import select

from functions.execute.handler import handler as execute_handler
from tests.fake_providers.slow_openai import slow_upstream
from tests.fakes.credentials import FakeCredentialSource
from tests.fakes.lambda_context import FakeLambdaContext
from tests.support import Tenant, load_event
from tollgate.api.lambda_adapter import container_loop
from tollgate.db.models import UsageRecord
from tollgate.wiring import Services


def _event(name: str, key: str) -> dict[str, Any]:
    event = load_event(name)
    event["headers"] = {**event["headers"], "authorization": f"Bearer {key}"}
    body = json.loads(event["body"])
    event["body"] = json.dumps({**body, "model": "openai/gpt-4o-mini"})
    return event


def test_invocations_share_one_loop_and_one_upstream_pool(services: Services, tenant: Tenant) -> None:
    source = FakeCredentialSource(services.sessions)
    services.credentials = source
    with slow_upstream(0.0) as (upstream_url, upstream):
        source.add(tenant.workspace_id, "openai", "upstream", upstream_url, "sk-upstream-key")
        first = execute_handler(_event("execute/chat.json", tenant.admin_key), FakeLambdaContext())
        loop = container_loop().get_loop()
        second = execute_handler(_event("execute/chat.json", tenant.admin_key), FakeLambdaContext())
        streamed = execute_handler(_event("execute/chat_stream.json", tenant.admin_key), FakeLambdaContext())
    assert [r["statusCode"] for r in (first, second, streamed)] == [200, 200, 200], first["body"]
    assert json.loads(second["body"])["model"] == "openai/gpt-4o-mini"
    assert streamed["body"].rstrip().endswith("data: [DONE]")
    assert container_loop().get_loop() is loop and not loop.is_closed()
    assert services.http_client.open_clients() == 1  # one pooled client: the container loop's
    assert upstream.arrived == 3
    with services.sessions() as session:
        rows = list(session.scalars(select(UsageRecord)))
    assert sorted(r.stream for r in rows) == [False, False, True]
    assert all(r.status == "success" and r.provider == "openai" for r in rows)


def test_a_handler_called_where_a_loop_already_runs_still_answers(services: Services, tenant: Tenant) -> None:
    async def host() -> dict[str, Any]:
        return execute_handler(load_event_with_key("execute/chat.json", tenant.admin_key), FakeLambdaContext())

    result = asyncio.run(host())
    assert result["statusCode"] == 200, result["body"]
    assert json.loads(result["body"])["choices"][0]["message"]["content"]


def load_event_with_key(name: str, key: str) -> dict[str, Any]:
    event = load_event(name)
    event["headers"] = {**event["headers"], "authorization": f"Bearer {key}"}
    return event
