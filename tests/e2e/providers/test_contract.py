"""The contract every adapter passes, driven by the stock openai SDK through a live Tollgate:
non-streaming, streaming and tool calls, with exact normalized usage and cost on every path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.e2e.providers.conftest import Gateway, expected_cost
from tests.e2e.providers.specs import SPECS, Spec
from tests.fake_providers.base import FakeProvider, running

MESSAGES = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Say hi"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


@pytest.fixture(params=SPECS, ids=lambda s: s.id)
def spec(request: pytest.FixtureRequest) -> Spec:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def fake(spec: Spec, gateway: Gateway) -> Iterator[FakeProvider]:
    with running(spec.fake()) as server:
        gateway.add_credential(
            spec.provider, spec.credential_name, server.url + spec.base_path, spec.api_key, options=spec.options
        )
        yield server


def _check_row(gateway: Gateway, spec: Spec, tokens: tuple[int, int, int, int, int], *, stream: bool) -> Decimal:
    (row,) = gateway.wait_for_rows(1)
    assert (row.provider, row.model, row.status, row.stream) == (spec.provider, spec.upstream_model, "success", stream)
    assert (
        row.input_tokens,
        row.cache_read_tokens,
        row.cache_write_tokens,
        row.output_tokens,
        row.reasoning_tokens,
    ) == tokens
    # OpenRouter reports what it charged; that wins over the price table (docs/pricing.md)
    cost = spec.billed_cost if spec.billed_cost is not None else expected_cost(*tokens[:4])
    assert row.cost_usd == cost
    assert row.price_id is not None
    return cost


def test_non_streaming_completion(gateway: Gateway, fake: FakeProvider, spec: Spec) -> None:
    # When the SDK asks for a completion through Tollgate
    raw = gateway.sdk().chat.completions.with_raw_response.create(
        model=spec.requested, messages=MESSAGES, temperature=0.2, max_tokens=64, stop=["END"]
    )
    completion = raw.parse()
    # Then the answer is translated back to the OpenAI shape
    assert completion.choices[0].message.content == "Hi."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == f"{spec.provider}/{spec.upstream_model}"
    # And usage is normalized exactly as provider_wire_formats.md §7 says
    uncached, read, write, output, reasoning = spec.usage
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == uncached + read + write
    assert completion.usage.completion_tokens == output
    assert raw.headers["x-tollgate-provider"] == spec.provider
    assert raw.headers["x-tollgate-model"] == spec.upstream_model
    assert "x-tollgate-fallback" not in raw.headers
    cost = _check_row(gateway, spec, spec.usage, stream=False)
    assert Decimal(raw.headers["x-tollgate-cost-usd"]) == cost
    # And the provider received its own wire format with the key where it belongs
    (sent,) = fake.requests
    spec.check_auth(sent, spec.api_key)
    spec.check_body(sent, spec.upstream_model, False)


def test_streaming_completion(gateway: Gateway, fake: FakeProvider, spec: Spec) -> None:
    stream = gateway.sdk().chat.completions.create(
        model=spec.requested,
        messages=MESSAGES,
        temperature=0.2,
        max_tokens=64,
        stop=["END"],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == spec.stream_text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"]
    # Exactly one usage chunk, last, with the provider's (cumulative) counts
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0] is chunks[-1]
    uncached, read, write, output, _ = spec.stream_usage
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == uncached + read + write
    assert chunks[-1].usage.completion_tokens == output
    _check_row(gateway, spec, spec.stream_usage, stream=True)
    (sent,) = fake.requests
    spec.check_auth(sent, spec.api_key)
    spec.check_body(sent, spec.upstream_model, True)


def test_tool_call(gateway: Gateway, fake: FakeProvider, spec: Spec) -> None:
    completion = gateway.sdk().chat.completions.create(
        model=spec.requested,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=TOOLS,
        tool_choice="auto",
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert call.id
    (sent,) = fake.requests
    assert "get_weather" in json.dumps(sent.body["tools"])
    (row,) = gateway.wait_for_rows(1)
    assert row.status == "success" and row.output_tokens == spec.usage[3]


def test_streaming_tool_call(gateway: Gateway, fake: FakeProvider, spec: Spec) -> None:
    stream = gateway.sdk().chat.completions.create(
        model=spec.requested, messages=[{"role": "user", "content": "Weather in Paris?"}], tools=TOOLS, stream=True
    )
    names: list[str] = []
    arguments = ""
    finish = None
    for chunk in stream:
        if not chunk.choices:
            continue
        for call in chunk.choices[0].delta.tool_calls or ():
            if call.function and call.function.name:
                names.append(call.function.name)
            arguments += (call.function.arguments or "") if call.function else ""
        finish = chunk.choices[0].finish_reason or finish
    assert names == ["get_weather"]
    assert json.loads(arguments) == {"city": "Paris"}
    assert finish == "tool_calls"
    (row,) = gateway.wait_for_rows(1)
    assert row.status == "success" and row.stream


def test_verify_makes_an_authenticated_call(gateway: Gateway, fake: FakeProvider, spec: Spec) -> None:
    # Given the adapter and the credential the contract fixture stored
    (target,) = gateway.credentials.targets_for(gateway.tenant.workspace_id, spec.provider)
    adapter = gateway.services.providers.get(spec.provider)
    # When the credentials test endpoint verifies it, one cheap authenticated call is made
    adapter.verify(target)
    (sent,) = fake.requests
    spec.check_auth(sent, spec.api_key)
    assert sent.method == "GET" or sent.path.endswith("/tokenize")
