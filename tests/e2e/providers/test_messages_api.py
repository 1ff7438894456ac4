"""``/v1/messages`` end to end with the stock ``anthropic`` SDK: native pass-through to the fake
Anthropic server (body, events, thinking signatures, tool ids, beta headers kept), translation to
the fake OpenAI and Gemini servers, exact cache pricing, and errors in Anthropic's shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types import (
    DocumentBlockParam,
    MessageParam,
    TextBlock,
    TextBlockParam,
    ToolParam,
    ToolResultBlockParam,
)
from sqlalchemy import update

from tests.e2e.providers.conftest import Gateway, expected_cost
from tests.fake_providers import anthropic_server, openai_server
from tests.fake_providers.anthropic_server import fake_anthropic
from tests.fake_providers.base import FakeProvider, Reply, running
from tests.fake_providers.gemini_server import fake_gemini
from tests.fake_providers.openai_server import fake_openai
from tollgate.db.models import ModelPrice

UPSTREAM_KEY = "sk-ant-api03-" + "m" * 32
WEATHER_TOOL: ToolParam = {
    "name": "get_weather",
    "description": "Weather of a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
ONE_HOUR_WRITE = Decimal("2.00")


@pytest.fixture
def upstream(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(fake_anthropic()) as server:
        gateway.add_credential("anthropic", "claude", server.url, UPSTREAM_KEY)
        with gateway.services.sessions.begin() as session:
            session.execute(
                update(ModelPrice)
                .where(ModelPrice.provider == "anthropic")
                .values(cache_write_1h_per_1m=ONE_HOUR_WRITE)
            )
        yield server


def client(gateway: Gateway, key: str | None = None) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.server.base_url, api_key=key or gateway.tenant.admin_key, max_retries=0)


def test_create_is_passed_through_natively_and_priced_with_every_cache_class(
    gateway: Gateway, upstream: FakeProvider
) -> None:
    # Given Anthropic answers with a 1-hour cache write and a cache read
    usage = {
        "input_tokens": 21,
        "cache_creation_input_tokens": 1800,
        "cache_read_input_tokens": 500,
        "cache_creation": {"ephemeral_5m_input_tokens": 800, "ephemeral_1h_input_tokens": 1000},
        "output_tokens": 5,
    }
    upstream.push(Reply(body={**anthropic_server.message(), "usage": usage}))
    system: list[TextBlockParam] = [
        {"type": "text", "text": "Long rules", "cache_control": {"type": "ephemeral", "ttl": "1h"}}
    ]
    # When the SDK creates a message with cache breakpoints, stop sequences, metadata and a beta flag
    raw = client(gateway).messages.with_raw_response.create(
        model="anthropic/claude-sonnet-4-5",
        max_tokens=64,
        system=system,
        messages=[{"role": "user", "content": "Say hi"}],
        stop_sequences=["END"],
        metadata={"user_id": "tenant-42"},
        extra_headers={"anthropic-beta": "extended-cache-ttl-2025-04-11"},
    )
    message = raw.parse()
    # Then Anthropic received the body as sent (model replaced) with the stored key and the beta flag
    sent = upstream.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == UPSTREAM_KEY
    assert sent.headers["anthropic-beta"] == "extended-cache-ttl-2025-04-11"
    assert sent.body == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "system": system,
        "messages": [{"role": "user", "content": "Say hi"}],
        "stop_sequences": ["END"],
        "metadata": {"user_id": "tenant-42"},
    }
    # And the answer is Anthropic's, verbatim
    (block,) = message.content
    assert isinstance(block, TextBlock)
    assert message.model == "claude-sonnet-4-5-20250929" and block.text == "Hi."
    assert message.usage.cache_read_input_tokens == 500
    assert raw.headers["request-id"] == raw.headers["x-request-id"]
    # And the usage row carries every token class, priced exactly (1 h writes at their own rate)
    row = gateway.usage_rows()[-1]
    assert (row.input_tokens, row.cache_read_tokens, row.cache_write_tokens, row.output_tokens) == (21, 500, 1800, 5)
    cost = expected_cost(21, 500, 800, 5) + Decimal(1000) * ONE_HOUR_WRITE / Decimal(1_000_000)
    assert row.cost_usd == cost
    assert Decimal(raw.headers["x-tollgate-cost-usd"]) == cost


def test_stream_relays_anthropic_events_verbatim_and_records_usage(gateway: Gateway, upstream: FakeProvider) -> None:
    # When the SDK streams a message
    with client(gateway).messages.stream(
        model="anthropic/claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "Say hi"}]
    ) as stream:
        final = stream.get_final_message()
    # Then the final message is assembled and metered
    assert final.content[0].text == "Hi."  # type: ignore[union-attr]
    assert final.usage.output_tokens == 5 and final.usage.cache_creation_input_tokens == 1800
    row = gateway.usage_rows()[-1]
    assert (row.stream, row.status, row.output_tokens, row.cache_write_tokens) == (True, "success", 5, 1800)
    # And the raw event stream is Anthropic's own sequence, event by event
    response = _raw_stream(gateway)
    expected = [json.loads(e.split("data: ", 1)[1]) for e in anthropic_server.stream_events()]
    assert _events(response.text) == expected


def test_a_stream_with_a_stray_stream_options_value_gets_the_providers_answer(
    gateway: Gateway, upstream: FakeProvider
) -> None:
    # Given a Messages stream carrying an OpenAI-only field with a non-object value (kept as sent)
    response = _raw_stream(gateway, stream_options="yes")
    # Then the provider decides (Anthropic refuses unknown fields: a 400 in Anthropic's shape), not a gateway 500
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"
    row = gateway.usage_rows()[-1]
    assert (row.status, row.cost_usd) == ("error", Decimal(0))


def _raw_stream(gateway: Gateway, **extra: Any) -> httpx.Response:
    """A streamed ``/v1/messages`` call over plain HTTP (the raw SSE text), ``extra`` fields added."""
    return httpx.post(
        gateway.server.base_url + "/v1/messages",
        headers={"x-api-key": gateway.tenant.admin_key, "anthropic-version": "2023-06-01"},
        json={
            "model": "anthropic/claude-sonnet-4-5",
            "max_tokens": 64,
            "stream": True,
            "messages": [{"role": "user", "content": "Say hi"}],
            **extra,
        },
    )


def _events(text: str) -> list[dict[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        name, data = block.split("\n", 1)
        payload = json.loads(data.removeprefix("data: "))
        assert name == f"event: {payload['type']}"
        events.append(payload)
    return events


def test_thinking_blocks_and_signatures_survive_both_ways(gateway: Gateway, upstream: FakeProvider) -> None:
    sdk = client(gateway)
    thinking: Any = {"type": "enabled", "budget_tokens": 1024}
    # When a message with extended thinking is created, then streamed
    first = sdk.messages.create(
        model="anthropic/claude-sonnet-4-5",
        max_tokens=2048,
        thinking=thinking,
        messages=[{"role": "user", "content": "Hi"}],
    )
    with sdk.messages.stream(
        model="anthropic/claude-sonnet-4-5",
        max_tokens=2048,
        thinking=thinking,
        messages=[{"role": "user", "content": "Hi"}],
    ) as stream:
        streamed = stream.get_final_message()
    # Then both carry the thinking block with its signature
    for message in (first, streamed):
        block = message.content[0]
        assert block.type == "thinking"
        assert (block.thinking, block.signature) == (
            anthropic_server.THINKING["thinking"],
            anthropic_server.THINKING["signature"],
        )
    # And sending it back (the fake refuses an unsigned thinking block) works
    again = sdk.messages.create(
        model="anthropic/claude-sonnet-4-5",
        max_tokens=2048,
        thinking=thinking,
        messages=[
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": [b.model_dump() for b in first.content]},  # type: ignore[misc,list-item]
            {"role": "user", "content": "Again"},
        ],
    )
    assert again.content[-1].type == "text"
    assert (
        upstream.requests[-1].body["messages"][1]["content"][0]["signature"] == anthropic_server.THINKING["signature"]
    )


def test_tools_round_trip_keeps_tool_use_ids(gateway: Gateway, upstream: FakeProvider) -> None:
    sdk = client(gateway)
    asked: list[MessageParam] = [{"role": "user", "content": "Weather in Paris?"}]
    first = sdk.messages.create(
        model="anthropic/claude-sonnet-4-5", max_tokens=256, tools=[WEATHER_TOOL], messages=asked
    )
    tool_use = next(b for b in first.content if b.type == "tool_use")
    assert first.stop_reason == "tool_use" and tool_use.id == anthropic_server.TOOL_USE["id"]
    result: ToolResultBlockParam = {"type": "tool_result", "tool_use_id": tool_use.id, "content": "18 C"}
    second = sdk.messages.create(
        model="anthropic/claude-sonnet-4-5",
        max_tokens=256,
        tools=[WEATHER_TOOL],
        messages=[
            *asked,
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": [result]},
        ],
    )
    assert second.content
    assert upstream.requests[-1].body["messages"][2]["content"] == [result]


@pytest.mark.parametrize("fake", [fake_openai, fake_gemini], ids=["openai", "gemini"])
def test_other_providers_are_translated_both_ways(gateway: Gateway, fake: Any) -> None:
    with running(fake()) as server:
        name = "openai" if fake is fake_openai else "gemini"
        base = server.url + "/v1" if name == "openai" else server.url
        gateway.add_credential(name, name, base, "sk-test-" + "x" * 24)
        model = "openai/gpt-4o-mini" if name == "openai" else "gemini/gemini-2.5-flash"
        sdk = client(gateway)
        # When the Anthropic SDK calls a non-Anthropic model, plainly, streaming, and with tools
        plain = sdk.messages.create(
            model=model, max_tokens=64, system="Be terse", messages=[{"role": "user", "content": "Say hi"}]
        )
        with sdk.messages.stream(
            model=model, max_tokens=64, messages=[{"role": "user", "content": "Say hi"}]
        ) as stream:
            streamed = stream.get_final_message()
        with sdk.messages.stream(
            model=model,
            max_tokens=64,
            tools=[WEATHER_TOOL],
            messages=[{"role": "user", "content": "Weather?"}],
        ) as stream:
            tooled = stream.get_final_message()
    # Then the answers are Anthropic messages
    assert plain.content[0].text == "Hi." and plain.stop_reason == "end_turn"  # type: ignore[union-attr]
    assert "".join(b.text for b in streamed.content if b.type == "text").startswith("Hi")
    tool = next(b for b in tooled.content if b.type == "tool_use")
    assert (tool.name, tool.input, tooled.stop_reason) == ("get_weather", {"city": "Paris"}, "tool_use")
    # And the upstream got its own wire format, metered like any call
    rows = gateway.usage_rows()
    assert [r.provider for r in rows] == [name] * 3 and all(r.cost_usd > 0 for r in rows)
    if name == "openai":
        assert plain.usage.input_tokens == 2006 - 1920 and plain.usage.cache_read_input_tokens == 1920
        assert server.requests[0].body["messages"][0] == {"role": "system", "content": "Be terse"}
        assert streamed.usage.output_tokens == 2 and streamed.usage.input_tokens == 9


def test_features_other_providers_cannot_express_are_refused_by_name(gateway: Gateway) -> None:
    with running(fake_openai()) as server:
        gateway.add_credential("openai", "openai", server.url + "/v1", "sk-test-" + "x" * 24)
        document: DocumentBlockParam = {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": "x"},
        }
        with pytest.raises(anthropic.BadRequestError) as caught:
            client(gateway).messages.create(
                model="openai/gpt-4o-mini",
                max_tokens=64,
                messages=[{"role": "user", "content": [document]}],
            )
        assert server.requests == []
    assert caught.value.status_code == 400
    assert "document blocks" in caught.value.message
    assert caught.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]


def test_errors_use_anthropics_shape_and_statuses(gateway: Gateway, upstream: FakeProvider) -> None:
    ask: dict[str, Any] = {
        "model": "anthropic/claude-sonnet-4-5",
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    # A bad gateway key: 401 authentication_error with the request id
    with pytest.raises(anthropic.AuthenticationError) as auth:
        client(gateway, key="tg_nope_nope").messages.create(**ask)
    assert auth.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": auth.value.body["error"]["message"]},  # type: ignore[index]
        "request_id": auth.value.request_id,
    }
    # A rate limit asking for more than the retry cap: 429 with Retry-After, not retried
    upstream.push(anthropic_server.error(429, "rate_limit_error", "slow down", {"retry-after": "30"}))
    with pytest.raises(anthropic.RateLimitError) as limited:
        client(gateway).messages.create(**ask)
    assert limited.value.response.headers["retry-after"] == "30"
    # Overloaded after every retry: 529 overloaded_error
    upstream.push(*[anthropic_server.error(529, "overloaded_error", "Overloaded")] * 3)
    with pytest.raises(anthropic.OverloadedError) as overloaded:
        client(gateway).messages.create(**ask)
    assert overloaded.value.status_code == 529 and len(gateway.sleeps) == 2
    # Credit exhausted upstream: 402 billing_error (no retry, no failover to the same account)
    upstream.push(anthropic_server.error(402, "billing_error", "Your credit balance is too low"))
    with pytest.raises(anthropic.PaymentRequiredError) as billing:
        client(gateway).messages.create(**ask)
    assert billing.value.body["error"]["type"] == "billing_error"  # type: ignore[index]
    # Validation: max_tokens is required, as on Anthropic
    with pytest.raises(anthropic.BadRequestError) as invalid:
        client(gateway).messages.create(model="anthropic/claude-sonnet-4-5", messages=[], max_tokens=0)
    assert invalid.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    rows = gateway.usage_rows()
    assert [r.error_type for r in rows] == ["rate_limit", "overloaded", "quota"]


def test_budget_block_is_a_402_billing_error(gateway: Gateway, upstream: FakeProvider) -> None:
    admin = httpx.Client(base_url=gateway.server.base_url, headers={"x-api-key": gateway.tenant.admin_key})
    created = admin.post(
        "/v1/budgets",
        json={"name": "tiny", "scope": "workspace", "period": "monthly", "limit_usd": "0.000001", "action": "block"},
    )
    assert created.status_code == 201, created.text
    with pytest.raises(anthropic.PaymentRequiredError) as caught:
        client(gateway).messages.create(
            model="anthropic/claude-sonnet-4-5", max_tokens=1000, messages=[{"role": "user", "content": "Hi"}]
        )
    assert "tiny" in caught.value.message or created.json()["id"] in caught.value.message
    assert upstream.requests == []


def test_root_key_is_refused_with_permission_error(gateway: Gateway) -> None:
    from tests.support import ROOT_KEY

    with pytest.raises(anthropic.PermissionDeniedError):
        client(gateway, key=ROOT_KEY).messages.create(
            model="mock/echo", max_tokens=8, messages=[{"role": "user", "content": "Hi"}]
        )


def test_claude_code_shaped_session(gateway: Gateway, upstream: FakeProvider) -> None:
    """Replays what Claude Code sends: Bearer auth, version and beta headers, ``?beta=true``, bare
    model ids (the workspace's primary credential is OpenAI; bare claude ids still go to Anthropic),
    a token count, then a streamed turn with tools and a haiku side call."""
    with running(fake_openai()) as openai_server:
        gateway.add_credential(
            "openai", "primary", openai_server.url + "/v1", "sk-test-" + "p" * 24, is_primary=True, priority=1
        )
        for model in ("claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"):
            _price(gateway, "anthropic", model)
        headers = {
            "authorization": f"Bearer {gateway.tenant.admin_key}",
            "anthropic-version": "2023-06-01",
            "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
            "x-app": "cli",
            "user-agent": "claude-cli/2.0.0 (external, cli)",
        }
        http = httpx.Client(base_url=gateway.server.base_url, headers=headers, timeout=10)
        turn = {
            "model": "claude-sonnet-4-5-20250929",
            "max_tokens": 32000,
            "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "List files"}]}],
            "tools": [WEATHER_TOOL],
            "metadata": {"user_id": "user_abc_account_def_session_ghi"},
        }
        counted = http.post(
            "/v1/messages/count_tokens?beta=true",
            json={k: v for k, v in turn.items() if k not in ("max_tokens", "metadata")},
        )
        streamed = http.post("/v1/messages?beta=true", json={**turn, "stream": True})
        side = http.post(
            "/v1/messages?beta=true",
            json={
                "model": "claude-haiku-4-5-20251001",
                "max_tokens": 512,
                "messages": [{"role": "user", "content": "Title?"}],
            },
        )
        assert openai_server.requests == []
    assert counted.status_code == 200 and counted.headers["x-tollgate-token-count"] == "anthropic"
    assert counted.json() == {"input_tokens": anthropic_server.count_tokens(upstream.requests[0])}
    assert streamed.status_code == 200, streamed.text
    events = _events(streamed.text)
    assert events[0]["type"] == "message_start" and events[-1]["type"] == "message_stop"
    assert any(e.get("content_block", {}).get("type") == "tool_use" for e in events)
    assert side.status_code == 200 and side.json()["type"] == "message"
    sent = upstream.requests[1:]
    assert [r.body["model"] for r in sent] == ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001"]
    assert all(r.headers["anthropic-beta"] == headers["anthropic-beta"] for r in upstream.requests)
    assert sent[0].body["system"] == turn["system"] and sent[0].body["tools"] == [WEATHER_TOOL]
    rows = gateway.usage_rows()
    assert [(r.requested_model, r.provider, r.stream) for r in rows] == [
        ("claude-sonnet-4-5-20250929", "anthropic", True),
        ("claude-haiku-4-5-20251001", "anthropic", False),
    ]


def test_count_tokens_estimates_for_other_providers(gateway: Gateway) -> None:
    with running(fake_openai()) as server:
        gateway.add_credential("openai", "openai", server.url + "/v1", "sk-test-" + "x" * 24)
        counted = client(gateway).messages.count_tokens(
            model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Say hi to everyone here"}]
        )
        assert server.requests == []
    assert counted.input_tokens > 0


def test_stream_error_after_start_is_an_error_event(gateway: Gateway, upstream: FakeProvider) -> None:
    events = anthropic_server.stream_events(final=False) + [anthropic_server.OVERLOADED_EVENT]
    upstream.push(Reply(events=events))
    manager = client(gateway).messages.stream(
        model="anthropic/claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    )
    with pytest.raises(anthropic.APIStatusError) as caught, manager as stream:
        stream.get_final_message()
    assert "overloaded" in str(caught.value).lower()
    assert gateway.wait_for_rows(1)[-1].status == "error"


def _price(gateway: Gateway, provider: str, model: str) -> None:
    with gateway.services.sessions.begin() as session:
        session.add(
            ModelPrice(
                provider=provider,
                model=model,
                source="manual",
                input_per_1m=Decimal(3),
                output_per_1m=Decimal(15),
                effective_from=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )


def test_count_tokens_falls_back_to_the_estimate_when_anthropic_is_overloaded(
    gateway: Gateway, upstream: FakeProvider
) -> None:
    upstream.push(anthropic_server.error(529, "overloaded_error", "Overloaded"))
    response = httpx.post(
        gateway.server.base_url + "/v1/messages/count_tokens",
        headers={"x-api-key": gateway.tenant.admin_key},
        json={"model": "anthropic/claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hi there"}]},
    )
    assert response.status_code == 200 and response.headers["x-tollgate-token-count"] == "estimate"
    assert response.json()["input_tokens"] > 0 and gateway.usage_rows() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "mock/echo", "messages": [{"role": "user", "content": "x"}]}, "body.max_tokens"),
        (
            {"model": "mock/echo", "max_tokens": "many", "messages": [{"role": "user", "content": "x"}]},
            "body.max_tokens",
        ),
        (
            {"model": "mock/echo", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]},
            "body.messages.0.role",
        ),
        ({"model": "mock/echo", "max_tokens": 5, "messages": []}, "body.messages"),
        ({"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}, "body.model"),
        # strict types, as Anthropic's API: a numeric string is not a number, "true" not a boolean
        ({"model": "mock/echo", "max_tokens": "5", "messages": [{"role": "user", "content": "x"}]}, "body.max_tokens"),
        (
            {"model": "mock/echo", "max_tokens": 5, "stream": "true", "messages": [{"role": "user", "content": "x"}]},
            "body.stream",
        ),
    ],
)
def test_validation_errors_name_the_field_in_anthropics_shape(
    gateway: Gateway, body: dict[str, Any], field: str
) -> None:
    response = httpx.post(
        gateway.server.base_url + "/v1/messages?beta=true",
        headers={"x-api-key": gateway.tenant.admin_key, "anthropic-version": "2023-06-01"},
        json=body,
    )
    assert response.status_code == 400
    payload = response.json()
    assert payload["type"] == "error" and payload["error"]["type"] == "invalid_request_error"
    assert field in payload["error"]["message"] and payload["request_id"] == response.headers["request-id"]


def test_unknown_provider_and_member_key(gateway: Gateway) -> None:
    from tests.support import make_key

    member = make_key(gateway.services, gateway.tenant.workspace_id, "member")
    sdk = client(gateway, key=member)
    reply = sdk.messages.create(model="mock/echo", max_tokens=16, messages=[{"role": "user", "content": "hello"}])
    assert reply.type == "message" and reply.content and reply.usage.output_tokens > 0
    with sdk.messages.stream(model="mock/echo", max_tokens=16, messages=[{"role": "user", "content": "hello"}]) as s:
        streamed = s.get_final_message()
    assert streamed.content[0].type == "text" and streamed.usage.output_tokens > 0
    with pytest.raises(anthropic.BadRequestError) as caught:
        sdk.messages.create(model="nope/x", max_tokens=16, messages=[{"role": "user", "content": "hello"}])
    assert "Unknown provider" in caught.value.message


def test_failover_from_openai_to_an_anthropic_equivalent_is_served_natively(
    gateway: Gateway, upstream: FakeProvider
) -> None:
    """``openai/gpt-4o-mini`` has ``anthropic/claude-sonnet-4-5`` as a configured equivalent."""
    with running(fake_openai()) as server:
        gateway.add_credential("openai", "openai", server.url + "/v1", "sk-test-" + "x" * 24, priority=1)
        server.push(*[openai_server.error(*openai_server.SERVER_ERROR)] * 3)
        raw = client(gateway).messages.with_raw_response.create(
            model="openai/gpt-4o-mini", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )
    message = raw.parse()
    assert raw.headers["x-tollgate-provider"] == "anthropic" and raw.headers["x-tollgate-fallback"] == "openai"
    assert message.model == "claude-sonnet-4-5-20250929" and message.usage.cache_creation_input_tokens == 1800
    assert upstream.requests[-1].body["model"] == "claude-sonnet-4-5"
    row = gateway.usage_rows()[-1]
    assert (row.provider, row.requested_model, row.fallback_from) == ("anthropic", "openai/gpt-4o-mini", "openai")


def test_models_list_answers_anthropics_sdk(gateway: Gateway, upstream: FakeProvider) -> None:
    models = list(client(gateway).models.list())
    ids = [m.id for m in models]
    assert "anthropic/claude-sonnet-4-5" in ids and all(m.type == "model" for m in models)
    plain = httpx.get(gateway.server.api_url + "/models", headers={"x-api-key": gateway.tenant.admin_key}).json()
    assert "type" not in plain["data"][0] and plain["object"] == "list"


def test_a_redacting_guardrail_also_covers_messages_to_anthropic(gateway: Gateway, upstream: FakeProvider) -> None:
    # Given a workspace that redacts e-mail addresses
    admin = httpx.Client(
        base_url=gateway.server.base_url, headers={"Authorization": f"Bearer {gateway.tenant.admin_key}"}, timeout=30
    )
    settings = {"detectors": {"pii_email": {"action": "redact"}}}
    assert admin.put("/v1/guardrails", json=settings).status_code == 200
    # When a message holding one goes to Anthropic, plain and streamed
    sdk = client(gateway)
    prompt = [{"role": "user", "content": "Mail jane.doe@example.com the report"}]
    answer = sdk.messages.create(model="anthropic/claude-sonnet-4-5", max_tokens=64, messages=prompt)  # type: ignore[arg-type]
    with sdk.messages.stream(model="anthropic/claude-sonnet-4-5", max_tokens=64, messages=prompt) as stream:  # type: ignore[arg-type]
        final = stream.get_final_message()
    # Then only the redacted text left (the call went the translated way), and both answers parse
    sent = [json.dumps(request.body) for request in upstream.requests]
    assert len(sent) == 2 and all("jane.doe@example.com" not in body for body in sent)
    assert all("[REDACTED:pii_email]" in body for body in sent)
    assert answer.content and final.content
