"""The walking skeleton with the stock openai SDK: mock provider, streaming and not, usage rows."""

from __future__ import annotations

from decimal import Decimal

import openai
import pytest
from sqlalchemy import select

from tests.support import LiveServer, Tenant
from tollgate.db.models import UsageDaily, UsageRecord


def client(server: LiveServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.api_url, api_key=key, max_retries=0)


def usage_rows(server: LiveServer) -> list[UsageRecord]:
    with server.services.sessions() as session:
        return list(session.scalars(select(UsageRecord).order_by(UsageRecord.created_at)))


def test_non_streaming_call_is_answered_and_metered(live_server: LiveServer, tenant: Tenant) -> None:
    # Given an admin key of a workspace
    sdk = client(live_server, tenant.admin_key)
    # When the stock SDK calls the mock model with attribution headers
    raw = sdk.chat.completions.with_raw_response.create(
        model="mock/echo",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there gateway"}],
        extra_headers={"X-Tollgate-Workflow": "onboarding", "X-Tollgate-Agent": "greeter", "X-Tollgate-Tags": "a,b"},
    )
    completion = raw.parse()
    # Then the answer echoes the user and reports realistic usage
    assert completion.choices[0].message.content == "hello there gateway"
    assert completion.usage is not None
    # The mock reports the gateway's own prompt estimate (docs/pricing.md): 3 to prime the reply,
    # per message 3 framing + the role ("system" 2 by the 4-characters floor, "user" 1) + the text
    assert completion.usage.prompt_tokens == 3 + (3 + 2 + 3) + (3 + 1 + 5)
    assert completion.usage.completion_tokens == 5
    # And the headers name the provider, the model and the cost
    assert raw.headers["x-tollgate-provider"] == "mock"
    assert raw.headers["x-tollgate-model"] == "echo"
    expected_cost = (Decimal(20) * Decimal("0.15") + Decimal(5) * Decimal("0.60")) / Decimal(1_000_000)
    assert Decimal(raw.headers["x-tollgate-cost-usd"]) == expected_cost
    request_id = raw.headers["x-request-id"]
    # And exactly one usage row was written with the same numbers
    (row,) = usage_rows(live_server)
    assert row.request_id == request_id
    assert (row.workflow, row.agent, row.tags) == ("onboarding", "greeter", ["a", "b"])
    assert (row.input_tokens, row.output_tokens, row.status, row.stream) == (20, 5, "success", False)
    assert row.cost_usd == expected_cost
    assert row.price_id is not None
    assert row.key_id == tenant.admin_key_id
    # And the daily rollup agrees with the row
    with live_server.services.sessions() as session:
        (daily,) = session.scalars(select(UsageDaily)).all()
    assert (daily.requests, daily.successes, daily.cost_usd, daily.workflow) == (1, 1, expected_cost, "onboarding")


def test_streaming_call_relays_chunks_and_final_usage(live_server: LiveServer, tenant: Tenant) -> None:
    sdk = client(live_server, tenant.admin_key)
    stream = sdk.chat.completions.create(
        model="mock/echo",
        messages=[{"role": "user", "content": "stream me please"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"metadata": {"workflow": "wf-body"}},
    )
    text, usage = "", None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage is not None:
            usage = chunk.usage
    assert text == "stream me please"
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens) == (3 + 3 + 1 + 4, 4)
    (row,) = usage_rows(live_server)
    assert (row.stream, row.status, row.workflow, row.output_tokens) == (True, "success", "wf-body", 4)


def test_unpriced_model_is_refused_not_free(live_server: LiveServer, tenant: Tenant) -> None:
    sdk = client(live_server, tenant.admin_key)
    with pytest.raises(openai.APIStatusError) as caught:
        sdk.chat.completions.create(model="mock/unpriced-model", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 409
    assert caught.value.body["type"] == "pricing_unavailable"  # type: ignore[index]
    # refused, not free: one refused row at cost 0 (the failure rate counts it)
    (row,) = usage_rows(live_server)
    assert (row.status, row.error_type, row.cost_usd) == ("refused", "model_unpriced", Decimal(0))


def test_revoked_key_stops_working_at_once_on_this_instance(live_server: LiveServer, tenant: Tenant) -> None:
    services = live_server.services
    created = services.gateway_keys.create(tenant.workspace_id, "temp", "member")
    sdk = client(live_server, created.plaintext)
    sdk.chat.completions.create(model="mock/echo", messages=[{"role": "user", "content": "hi"}])
    services.gateway_keys.revoke(tenant.workspace_id, created.row.id)
    with pytest.raises(openai.AuthenticationError) as caught:
        sdk.chat.completions.create(model="mock/echo", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["code"] == "revoked_api_key"  # type: ignore[index]
