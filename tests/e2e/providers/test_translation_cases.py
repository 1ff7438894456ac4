"""The cases of issue 17, each through a live Tollgate with the stock openai SDK and a fake that
refuses what the real API refuses (tests/fake_providers/rules.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from tests.e2e.providers.conftest import Gateway, add_price
from tests.fake_providers.answers import Answer, Call, render
from tests.fake_providers.anthropic_server import fake_anthropic
from tests.fake_providers.base import FakeProvider, running
from tests.fake_providers.gemini_server import fake_gemini
from tests.fake_providers.openai_server import fake_openai

SIGNATURE = "c2lnLWFiYy0xMjM="
WEB_SEARCH: ChatCompletionToolParam = {
    "type": "function",
    "function": {
        "name": "web_search",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
    },
}
GEMINI_3 = "gemini/gemini-3.1-pro-preview"
TURN_1: list[ChatCompletionMessageParam] = [{"role": "user", "content": "search tollgate"}]
SEARCH = Answer(calls=(Call("unused", "web_search", {"query": "tollgate"}, signature=SIGNATURE),))
DONE = Answer(text="Tollgate is an AI gateway.")


@pytest.fixture
def gemini(gateway: Gateway) -> Iterator[FakeProvider]:
    add_price(gateway.services, "gemini", "gemini-3.1-pro-preview")
    with running(fake_gemini()) as server:
        gateway.add_credential("gemini", "main", server.url, "AIzaSyTestK3y0000000000000000001")
        yield server


@pytest.fixture
def anthropic(gateway: Gateway) -> Iterator[FakeProvider]:
    with running(fake_anthropic()) as server:
        gateway.add_credential("anthropic", "main", server.url, "sk-ant-test-k3y0001")
        yield server


@pytest.fixture
def openai_fake(gateway: Gateway) -> Iterator[FakeProvider]:
    add_price(gateway.services, "openai", "o3-mini")
    with running(fake_openai()) as server:
        gateway.add_credential("openai", "main", server.url + "/v1", "sk-test-openai-k3y0001")
        yield server


def _second_turn(assistant: dict[str, Any]) -> list[Any]:  # raw JSON: `extra_content` is not in the SDK's types
    call_id = assistant["tool_calls"][0]["id"]
    return [*TURN_1, assistant, {"role": "tool", "tool_call_id": call_id, "content": "Tollgate: an AI gateway"}]


@pytest.mark.parametrize("stream", [False, True], ids=["non-stream", "stream"])
def test_gemini_3_thought_signature_survives_the_round_trip(
    gateway: Gateway, gemini: FakeProvider, stream: bool
) -> None:
    # Given Gemini 3 answers turn 1 with a signed functionCall
    sdk = gateway.sdk()
    gemini.push(render("gemini", SEARCH, stream), render("gemini", DONE, False))
    if stream:
        chunks = list(sdk.chat.completions.create(model=GEMINI_3, messages=TURN_1, tools=[WEB_SEARCH], stream=True))
        (call,) = [c for chunk in chunks if chunk.choices for c in chunk.choices[0].delta.tool_calls or ()]
        raw_call = call.model_dump()
    else:
        turn_1 = sdk.chat.completions.create(model=GEMINI_3, messages=TURN_1, tools=[WEB_SEARCH])
        (message_call,) = turn_1.choices[0].message.tool_calls or []
        raw_call = message_call.model_dump()
    # Then the tool call carries it as Gemini's own OpenAI-compatible API does
    assert raw_call["extra_content"] == {"google": {"thought_signature": SIGNATURE}}
    assert json.loads(raw_call["function"]["arguments"]) == {"query": "tollgate"}
    # When the client sends the assistant message back with the tool result
    sent_back = {k: v for k, v in raw_call.items() if k != "index"}  # a stream delta also has its index
    assistant = {"role": "assistant", "content": None, "tool_calls": [sent_back]}
    answer = sdk.chat.completions.create(model=GEMINI_3, messages=_second_turn(assistant), tools=[WEB_SEARCH])
    # Then turn 2 reaches Gemini 3 (which refuses unsigned calls) with the signature on the functionCall part
    assert answer.choices[0].message.content == "Tollgate is an AI gateway."
    model_turn = gemini.requests[1].body["contents"][1]
    assert model_turn == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "web_search", "args": {"query": "tollgate"}}, "thoughtSignature": SIGNATURE}
        ],
    }


def test_gemini_3_history_without_signature_gets_googles_placeholder(gateway: Gateway, gemini: FakeProvider) -> None:
    # Given a history whose tool call came from elsewhere (no signature)
    assistant = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_x", "type": "function", "function": {"name": "web_search", "arguments": '{"query":"t"}'}}
        ],
    }
    gemini.push(render("gemini", DONE, False))
    gateway.sdk().chat.completions.create(model=GEMINI_3, messages=_second_turn(assistant), tools=[WEB_SEARCH])
    # Then the call is sent with the placeholder Google documents, and Gemini 3 accepts it
    part = gemini.requests[0].body["contents"][1]["parts"][0]
    assert part["thoughtSignature"] == "skip_thought_signature_validator"


def test_gemini_2_history_is_sent_without_invented_signatures(gateway: Gateway, gemini: FakeProvider) -> None:
    assistant = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c", "type": "function", "function": {"name": "web_search", "arguments": "{}"}}],
    }
    gateway.sdk().chat.completions.create(
        model="gemini/gemini-2.5-flash", messages=_second_turn(assistant), tools=[WEB_SEARCH]
    )
    assert "thoughtSignature" not in gemini.requests[0].body["contents"][1]["parts"][0]


def test_anthropic_gets_no_empty_text_and_no_trailing_whitespace_in_a_prefill(
    gateway: Gateway, anthropic: FakeProvider
) -> None:
    # Given the history: a blank assistant turn, an empty text part and a prefill ending in a space
    messages: list[Any] = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "   "},
        {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "second"}]},
        {"role": "assistant", "content": "Sure: "},
    ]
    completion = gateway.sdk().chat.completions.create(model="anthropic/claude-sonnet-4-5", messages=messages)
    # Then Anthropic (whose fake refuses each of those) accepts what was sent
    assert completion.choices[0].message.content == "Hi."
    assert anthropic.requests[0].body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Sure:"}]},
    ]


def test_anthropic_keeps_cache_breakpoints(gateway: Gateway, anthropic: FakeProvider) -> None:
    cached = {"type": "ephemeral"}
    messages: list[Any] = [
        {"role": "system", "content": [{"type": "text", "text": "Long stable rules.", "cache_control": cached}]},
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": [{"type": "text", "text": "Big document", "cache_control": cached}]},
    ]
    gateway.sdk().chat.completions.create(model="anthropic/claude-sonnet-4-5", messages=messages)
    sent = anthropic.requests[0].body
    assert sent["system"] == [
        {"type": "text", "text": "Long stable rules.", "cache_control": cached},
        {"type": "text", "text": "Be terse."},
    ]
    assert sent["messages"][0]["content"] == [{"type": "text", "text": "Big document", "cache_control": cached}]


def test_anthropic_refusal_reads_once_with_its_reason(gateway: Gateway, anthropic: FakeProvider) -> None:
    # Given a request Anthropic still refuses (its 400, prompt text in the message)
    from tests.fake_providers.anthropic_server import error

    anthropic.push(error(400, "invalid_request_error", "messages.0.content.0.text: 'my secret' is not allowed"))
    with pytest.raises(openai.BadRequestError) as refused:
        gateway.sdk().chat.completions.create(
            model="anthropic/claude-sonnet-4-5", messages=[{"role": "user", "content": "my secret"}]
        )
    body = refused.value.body
    assert isinstance(body, dict)
    assert body["message"] == (
        "anthropic refused the request as invalid (HTTP 400): "
        "error type invalid_request_error, parameter messages.0.content.0.text"
    )
    assert body["param"] == "messages.0.content.0.text" and "secret" not in json.dumps(body)


def test_anthropic_sampling_pair_and_tool_options(gateway: Gateway, anthropic: FakeProvider) -> None:
    # temperature + top_p: claude-sonnet-4-5 refuses the pair; parallel_tool_calls=false is expressed
    gateway.sdk().chat.completions.create(
        model="anthropic/claude-sonnet-4-5",
        messages=[{"role": "user", "content": "hi"}],
        temperature=0.3,
        top_p=0.5,
        tools=[WEB_SEARCH],
        tool_choice="required",
        parallel_tool_calls=False,
        stop=["END", ""],
    )
    sent = anthropic.requests[0].body
    assert (sent["temperature"], "top_p" in sent, sent["stop_sequences"]) == (0.3, False, ["END"])
    assert sent["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}


def test_anthropic_whitespace_stop_sequence_is_refused_naming_stop(gateway: Gateway, anthropic: FakeProvider) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        gateway.sdk().chat.completions.create(
            model="anthropic/claude-sonnet-4-5", messages=[{"role": "user", "content": "hi"}], stop=["\n"]
        )
    assert refused.value.body["param"] == "stop"  # type: ignore[index]
    assert anthropic.requests == []


def test_openai_reasoning_model_gets_max_completion_tokens_and_no_temperature(
    gateway: Gateway, openai_fake: FakeProvider
) -> None:
    # o-series refuse max_tokens and any non-default temperature (the fake answers their 400)
    gateway.sdk().chat.completions.create(
        model="openai/o3-mini",
        messages=[{"role": "developer", "content": "Be terse."}, {"role": "user", "content": "hi"}],
        max_tokens=64,
        temperature=0.2,
    )
    sent = openai_fake.requests[0].body
    assert (sent["max_completion_tokens"], "max_tokens" in sent, "temperature" in sent) == (64, False, False)
    assert sent["messages"][0]["role"] == "developer"
