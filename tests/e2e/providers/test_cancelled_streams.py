"""What a cancelled stream costs: the client leaves after the first chunk of a reasoning model's
stream; the provider bills the whole generation, so Tollgate reads on (bounded) to the provider's
final usage and bills that; without one it charges the reservation, flagged estimated."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import anthropic
import httpx
import openai
import pytest
from anthropic.types import MessageParam
from openai.types.chat import ChatCompletionMessageParam

from tests.e2e.providers.conftest import CANCELLED_STREAM_READ_S, Gateway, expected_cost
from tests.fake_providers import anthropic_server, openai_server
from tests.fake_providers.base import FakeProvider, Reply, running, sse
from tollgate.db.models import UsageRecord
from tollgate.execution.gate import PolicyGate

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Think hard, then say hi"}]
ANTHROPIC_MESSAGES: list[MessageParam] = [{"role": "user", "content": "Think hard, then say hi"}]
# What the provider bills for the whole generation: 4,000 hidden reasoning tokens + 60 visible.
REASONING_USAGE = {
    "prompt_tokens": 9,
    "completion_tokens": 4060,
    "total_tokens": 4069,
    "prompt_tokens_details": {"cached_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 4000},
}


@pytest.fixture
def openai_fake(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(openai_server.fake_openai()) as server:
        gateway.add_credential("openai", "openai-main", server.url + "/v1", "sk-test-openai-0001")
        yield server


@pytest.fixture
def anthropic_fake(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(anthropic_server.fake_anthropic()) as server:
        gateway.add_credential("anthropic", "anthropic-main", server.url, "sk-ant-test-0001")
        yield server


def admin(gateway: Gateway) -> httpx.Client:
    return httpx.Client(
        base_url=gateway.server.base_url, headers={"Authorization": f"Bearer {gateway.tenant.admin_key}"}, timeout=10
    )


def budget(client: httpx.Client) -> str:
    body = {"name": "month", "scope": "workspace", "period": "monthly", "limit_usd": "1", "action": "block"}
    created = client.post("/v1/budgets", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def spent_and_reserved(client: httpx.Client, budget_id: str) -> tuple[Decimal, Decimal]:
    status = client.get(f"/v1/budgets/{budget_id}/status").json()
    return Decimal(status["spent_usd"]), Decimal(status["reserved_usd"])


def openai_reasoning_events(words: int, usage: dict[str, Any] | None) -> list[str]:
    events = [sse(openai_server.chunk({"role": "assistant", "content": ""}))]
    events += [sse(openai_server.chunk({"content": f"word{i} "})) for i in range(words)]
    events.append(sse(openai_server.chunk({}, "stop")))
    if usage is not None:
        events.append(sse(openai_server.chunk({}, usage=usage, choices=False)))
    return [*events, sse("[DONE]")]


def anthropic_thinking_events(words: int) -> list[str]:
    """message_start (input counts, output 1), a thinking block, text, then message_delta with the
    output Anthropic bills (thinking included) and message_stop."""
    events = anthropic_server.stream_events(thinking=True, final=False)
    events += [
        sse(
            {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": f" word{i}"}},
            "content_block_delta",
        )
        for i in range(words)
    ]
    delta = {"stop_reason": "end_turn", "stop_sequence": None}
    events.append(sse({"type": "message_delta", "delta": delta, "usage": {"output_tokens": 4060}}, "message_delta"))
    return [*events, sse({"type": "message_stop"}, "message_stop")]


def read_one_chunk_and_leave(gateway: Gateway, model: str, **extra: Any) -> None:
    stream = gateway.sdk().chat.completions.create(model=model, messages=MESSAGES, stream=True, **extra)
    assert isinstance(stream, openai.Stream)
    for _ in stream:
        break
    stream.close()


def cancelled_row(gateway: Gateway) -> UsageRecord:
    (row,) = gateway.wait_for_rows(1, timeout_s=CANCELLED_STREAM_READ_S + 10)
    assert (row.status, row.error_type, row.stream) == ("cancelled", "client_disconnected", True)
    return row


def worst_case(client: httpx.Client, model: str, **extra: Any) -> Decimal:
    estimate = client.post("/v1/cost/estimate", json={"model": model, "messages": MESSAGES, **extra})
    assert estimate.status_code == 200, estimate.text
    return Decimal(estimate.json()["max_cost_usd"])


def test_openai_stream_left_after_the_first_chunk_is_billed_the_whole_generation(
    gateway: Gateway, openai_fake: FakeProvider
) -> None:
    client = admin(gateway)
    budget_id = budget(client)
    # Given a reasoning model's stream whose usage (4,060 output tokens) comes in its last chunk
    openai_fake.push(Reply(events=openai_reasoning_events(12, REASONING_USAGE), event_delay_s=0.05))
    # When the client reads the first chunk and hangs up
    read_one_chunk_and_leave(gateway, "openai/gpt-4o-mini")
    # Then the call is billed what the provider bills, not the few visible tokens relayed
    row = cancelled_row(gateway)
    assert (row.input_tokens, row.output_tokens, row.reasoning_tokens) == (9, 4060, 4000)
    assert row.estimated is False
    assert row.cost_usd == expected_cost(9, 0, 0, 4060)
    # And the budget was charged exactly that
    assert spent_and_reserved(client, budget_id) == (expected_cost(9, 0, 0, 4060), Decimal(0))


def test_anthropic_stream_left_after_the_first_chunk_is_billed_from_message_delta(
    gateway: Gateway, anthropic_fake: FakeProvider
) -> None:
    client = admin(gateway)
    budget_id = budget(client)
    anthropic_fake.push(Reply(events=anthropic_thinking_events(12), event_delay_s=0.05))
    read_one_chunk_and_leave(gateway, "anthropic/claude-sonnet-4-5")
    row = cancelled_row(gateway)
    assert (row.input_tokens, row.cache_write_tokens, row.output_tokens) == (21, 1800, 4060)
    assert row.estimated is False
    assert row.cost_usd == expected_cost(21, 0, 1800, 4060)
    assert spent_and_reserved(client, budget_id) == (expected_cost(21, 0, 1800, 4060), Decimal(0))


def test_native_messages_stream_left_after_the_first_event_is_billed_from_message_delta(
    gateway: Gateway, anthropic_fake: FakeProvider
) -> None:
    client = admin(gateway)
    budget_id = budget(client)
    anthropic_fake.push(Reply(events=anthropic_thinking_events(12), event_delay_s=0.05))
    # When an Anthropic SDK client reads the first event of /v1/messages and hangs up
    sdk = anthropic.Anthropic(base_url=gateway.server.base_url, api_key=gateway.tenant.admin_key, max_retries=0)
    stream = sdk.messages.create(
        model="anthropic/claude-sonnet-4-5", max_tokens=8000, messages=ANTHROPIC_MESSAGES, stream=True
    )
    for _ in stream:
        break
    stream.close()
    # Then the passed-through stream is billed what Anthropic bills
    row = cancelled_row(gateway)
    assert (row.input_tokens, row.cache_write_tokens, row.output_tokens) == (21, 1800, 4060)
    assert row.estimated is False and row.cost_usd == expected_cost(21, 0, 1800, 4060)
    assert spent_and_reserved(client, budget_id) == (expected_cost(21, 0, 1800, 4060), Decimal(0))


def test_a_stream_left_without_a_final_usage_is_charged_its_reservation(
    gateway: Gateway, openai_fake: FakeProvider
) -> None:
    client = admin(gateway)
    budget_id = budget(client)
    reserved = worst_case(client, "openai/gpt-4o-mini", max_tokens=300)
    # Given an upstream that ignores include_usage (no usage chunk at the end)
    openai_fake.push(Reply(events=openai_reasoning_events(12, None), event_delay_s=0.05))
    read_one_chunk_and_leave(gateway, "openai/gpt-4o-mini", max_tokens=300)
    # Then what the provider bills is unknown: the reserved worst case is charged, flagged estimated
    row = cancelled_row(gateway)
    assert row.estimated is True
    assert row.cost_usd == reserved
    assert row.output_tokens == 300 and row.input_tokens > 0  # the sizes the reservation counted
    assert spent_and_reserved(client, budget_id) == (reserved, Decimal(0))


def test_a_stream_that_does_not_reach_its_usage_in_time_is_charged_its_reservation(
    gateway: Gateway, openai_fake: FakeProvider
) -> None:
    client = admin(gateway)
    budget_id = budget(client)
    reserved = worst_case(client, "openai/gpt-4o-mini", max_tokens=300)
    # Given a stream whose usage would come long after the read-on bound
    slow = openai_reasoning_events(40, REASONING_USAGE)
    openai_fake.push(Reply(events=slow, event_delay_s=0.3))  # each piece within the 0.5 s read timeout
    started = time.monotonic()
    read_one_chunk_and_leave(gateway, "openai/gpt-4o-mini", max_tokens=300)
    row = cancelled_row(gateway)
    # Then reading on stopped at the bound and the reservation was charged, estimated
    assert time.monotonic() - started < CANCELLED_STREAM_READ_S * 3
    assert row.estimated is True and row.cost_usd == reserved
    assert spent_and_reserved(client, budget_id) == (reserved, Decimal(0))


def test_a_stream_the_gateway_fails_before_its_first_chunk_is_billed_the_whole_generation(
    gateway: Gateway, openai_fake: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = admin(gateway)
    budget_id = budget(client)

    # Given a workspace that scans answers, whose guardrail policy cannot be read once the stream opened
    def policy_unreadable(*_: object) -> None:
        raise RuntimeError("database unavailable")

    monkeypatch.setattr(PolicyGate, "may_screen_response", lambda *_: True)
    monkeypatch.setattr(PolicyGate, "stream_screen", policy_unreadable)
    openai_fake.push(Reply(events=openai_reasoning_events(12, REASONING_USAGE), event_delay_s=0.01))
    # When the stream is relayed, the gateway fails before the first chunk (the client gets an error event)
    stream = gateway.sdk().chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES, stream=True)
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass
    # Then the provider still generated and bills the whole answer: the call is billed that, not 0
    (row,) = gateway.wait_for_rows(1, timeout_s=CANCELLED_STREAM_READ_S + 10)
    assert (row.status, row.error_type) == ("error", "internal_error")
    assert (row.input_tokens, row.output_tokens, row.reasoning_tokens) == (9, 4060, 4000)
    assert row.estimated is False and row.cost_usd == expected_cost(9, 0, 0, 4060)
    assert spent_and_reserved(client, budget_id) == (expected_cost(9, 0, 0, 4060), Decimal(0))
