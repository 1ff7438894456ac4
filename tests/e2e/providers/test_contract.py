"""The contract every adapter passes, driven by the stock openai SDK through a live Tollgate:
non-streaming, streaming and tool calls, with exact normalized usage and cost on every path; every
OpenAI field a client may send reaches the provider in a form its API accepts (the fakes refuse what
the real APIs refuse, ``tests/fake_providers/rules.py``) or is refused by Tollgate naming the field;
a streamed answer rebuilds in the SDK to exactly the non-streamed one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openai
import pytest
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
    ChatCompletionToolParam,
)

from tests.e2e.providers.conftest import Gateway, expected_cost
from tests.e2e.providers.specs import SPECS, Spec
from tests.fake_providers.answers import Answer, Call, render
from tests.fake_providers.base import FakeProvider

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say hi"},
]
TOOLS: list[ChatCompletionToolParam] = [
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
    with gateway.upstream(spec) as server:
        yield server


def _stop(spec: Spec) -> list[str] | openai.Omit:
    return openai.omit if "stop" in spec.refuses else ["END"]


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
        model=spec.requested, messages=MESSAGES, temperature=0.2, max_tokens=64, stop=_stop(spec)
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
        stop=_stop(spec),
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
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
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


# -- every OpenAI field a client may send ---------------------------------------------------------

PIXEL = "data:image/png;base64,iVBORw0KGgo="
TIME_TOOL = {"type": "function", "function": {"name": "get_time", "description": "Current time"}}  # no parameters
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
HISTORY: list[dict[str, Any]] = [
    {"role": "system", "content": [{"type": "text", "text": "You are terse."}]},
    {"role": "developer", "content": "Answer in English."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": ""},
            {"type": "text", "text": "Weather in Paris?"},
            {"type": "image_url", "image_url": {"url": PIXEL}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        ],
    },
    {
        "role": "assistant",
        "content": "   ",
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
            {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": ""}},
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "sunny"}]},
    {"role": "tool", "tool_call_id": "call_2", "content": ""},
    {"role": "user", "content": [{"type": "text", "text": "And tomorrow?"}]},
]
EVERY_FIELD: dict[str, Any] = {
    "messages": HISTORY,
    "tools": [*TOOLS, TIME_TOOL],
    "parallel_tool_calls": False,
    "temperature": 0.2,
    "top_p": 0.9,
    "max_completion_tokens": 64,
    "stop": ["END"],
    "n": 1,
    "seed": 7,
    "user": "tenant-42",
    "response_format": {"type": "json_schema", "json_schema": {"name": "reply", "schema": SCHEMA}},
}
REFUSED_PARAM = {"stop": "stop", "image_url": "messages[2].content[2].type"}
TOOL_CHOICES: list[Any] = ["none", "auto", "required", {"type": "function", "function": {"name": "get_weather"}}]


def _without_refused(spec: Spec) -> dict[str, Any]:
    body = {k: v for k, v in EVERY_FIELD.items() if k not in spec.refuses}
    if "image_url" in spec.refuses:
        body["messages"] = [
            {**m, "content": [p for p in m["content"] if p.get("type") != "image_url"]}
            if isinstance(m["content"], list)
            else m
            for m in HISTORY
        ]
    return body


def test_every_openai_field_reaches_the_provider_in_a_form_it_accepts(
    gateway: Gateway, fake: FakeProvider, spec: Spec
) -> None:
    # Given a history with every field and content form a client may send (empty and blank text,
    # images as data and remote URLs, developer messages, part arrays, a tool called without arguments)
    sdk = gateway.sdk()
    body = _without_refused(spec)
    for choice in TOOL_CHOICES:
        # When it is sent with each tool_choice form, the provider's fake (which refuses what the real
        # API refuses) accepts the translated request
        completion = sdk.chat.completions.create(model=spec.requested, tool_choice=choice, **body)
        assert completion.choices[0].message is not None
    assert len(fake.requests) == len(TOOL_CHOICES)
    # And what the provider cannot express is refused by Tollgate, naming the field, before any call
    for field in sorted(spec.refuses):
        with_field = {**body, "stop": EVERY_FIELD["stop"]} if field == "stop" else {**body, "messages": HISTORY}
        with pytest.raises(openai.BadRequestError) as refused:
            sdk.chat.completions.create(model=spec.requested, tool_choice="auto", **with_field)
        error = refused.value.body
        assert isinstance(error, dict)
        assert error["code"] == "unsupported_parameter" and spec.provider in error["message"]
        assert error["param"] == REFUSED_PARAM[field]
    assert len(fake.requests) == len(TOOL_CHOICES)


def test_several_choices_are_refused_before_any_call(gateway: Gateway, fake: FakeProvider, spec: Spec) -> None:
    # Tollgate answers one choice (its usage and the translated adapters read the first only)
    with pytest.raises(openai.BadRequestError):
        gateway.sdk().chat.completions.create(model=spec.requested, messages=MESSAGES, n=2)
    assert fake.requests == []


def test_a_provider_refusal_passes_on_its_sanitized_reason(gateway: Gateway, fake: FakeProvider, spec: Spec) -> None:
    # Given the provider refuses the request with a 400 whose text quotes the prompt
    assert spec.refusal is not None
    fake.push(spec.refusal)
    with pytest.raises(openai.BadRequestError) as refused:
        gateway.sdk().chat.completions.create(model=spec.requested, messages=MESSAGES)
    # Then the client reads the provider's structured reason once, never its free text
    error = refused.value.body
    assert isinstance(error, dict) and error["code"] == "upstream_bad_request"
    provider = spec.provider
    assert error["message"] == f"{provider} refused the request as invalid (HTTP 400){spec.refusal_reason}"
    assert "SECRET-PROMPT" not in json.dumps(error) and spec.api_key not in json.dumps(error)


# -- a stream rebuilds to the non-streamed answer -----------------------------------------------

ANSWERS = {
    "text": Answer(text="Hello there, friend."),
    "tools": Answer(
        text="Let me check.",
        calls=(
            Call("call_01", "get_weather", {"city": "Paris"}, signature="c2lnLWFiYy0xMjM="),
            Call("call_02", "get_time", {}),
        ),
    ),
}


def _rebuilt(stream: openai.Stream[Any]) -> ChatCompletion:
    """What the stock SDK accumulates from the chunks (``ChatCompletionStreamState``)."""
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState()
    for chunk in stream:
        state.handle_chunk(chunk)
    return state.get_final_completion()


def _essence(completion: ChatCompletion, ids: bool) -> dict[str, Any]:
    choice = completion.choices[0]
    calls = [
        (call.id if ids else bool(call.id), call.function.name, json.loads(call.function.arguments))
        for call in choice.message.tool_calls or ()
        if call.type == "function"
    ]
    extra = [(call.model_extra or {}).get("extra_content") for call in choice.message.tool_calls or ()]
    assert completion.usage is not None
    return {
        "text": choice.message.content or "",
        "calls": calls,
        "extra": extra,
        "finish": choice.finish_reason,
        "usage": (completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens),
    }


@pytest.mark.parametrize("answer", list(ANSWERS), ids=list(ANSWERS))
def test_a_stream_rebuilds_to_the_non_streamed_answer(
    gateway: Gateway, fake: FakeProvider, spec: Spec, answer: str
) -> None:
    # Given the provider gives the same answer streamed and not
    scripted = ANSWERS[answer]
    fake.push(render(spec.wire, scripted, False), render(spec.wire, scripted, True))
    sdk = gateway.sdk()
    ask: dict[str, Any] = {"model": spec.requested, "messages": MESSAGES, "tools": [*TOOLS, TIME_TOOL]}
    whole = sdk.chat.completions.create(**ask)
    rebuilt = _rebuilt(sdk.chat.completions.create(**ask, stream=True, stream_options={"include_usage": True}))
    # Then the SDK rebuilds the stream to exactly the non-streamed answer
    expected = _essence(whole, spec.stable_ids)
    assert _essence(rebuilt, spec.stable_ids) == expected
    if scripted.calls:
        assert expected["finish"] == "tool_calls"
        assert [args for _, _, args in expected["calls"]] == [{"city": "Paris"}, {}]  # no arguments → "{}"
        assert len({c.id for c in whole.choices[0].message.tool_calls or ()}) == 2
    else:
        assert expected == {**expected, "text": "Hello there, friend.", "finish": "stop", "calls": []}


def test_a_stream_sends_usage_only_when_asked(gateway: Gateway, fake: FakeProvider, spec: Spec) -> None:
    # When the client streams without stream_options.include_usage
    chunks = list(gateway.sdk().chat.completions.create(model=spec.requested, messages=MESSAGES, stream=True))
    # Then every chunk has a choice (no `choices: []` usage chunk), as OpenAI does
    assert chunks and all(chunk.choices for chunk in chunks)
    assert all(chunk.usage is None for chunk in chunks)
    # And the call is still metered with the provider's usage (the upstream request asked for it)
    _check_row(gateway, spec, spec.stream_usage, stream=True)
