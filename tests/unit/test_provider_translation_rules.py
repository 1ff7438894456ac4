"""Issue 17: what each adapter sends is what its provider accepts; refusals carry a sanitized reason."""

from __future__ import annotations

from typing import Any

import pytest

from tollgate.errors import InvalidRequest
from tollgate.providers.anthropic import classify as classify_anthropic
from tollgate.providers.anthropic import to_anthropic
from tollgate.providers.base import ChatRequest, ProviderTarget
from tollgate.providers.content import require_single_choice
from tollgate.providers.errors import FailureKind, safe_token, to_gateway_error
from tollgate.providers.gemini import _read_candidate, to_gemini
from tollgate.providers.gemini import classify as classify_gemini
from tollgate.providers.openai_compat import classify_openai
from tollgate.providers.openai_request import is_reasoning_model, openai_body
from tollgate.providers.yandex import to_yandex

CALL = {"id": "call_1", "type": "function", "function": {"name": "web_search", "arguments": '{"query":"t"}'}}


def _anthropic(messages: list[Any], **body: Any) -> dict[str, Any]:
    return to_anthropic(ChatRequest("claude-sonnet-4-5", {"messages": messages, **body}), stream=False)


def test_anthropic_issue_history_is_cleaned() -> None:
    out = _anthropic(
        [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "   "},
            {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "second"}]},
            {"role": "assistant", "content": "Sure: "},
        ]
    )
    assert out["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Sure:"}]},
    ]


def test_anthropic_blank_prefill_is_dropped_and_nothing_left_is_a_400() -> None:
    out = _anthropic([{"role": "user", "content": "hi"}, {"role": "assistant", "content": " \n"}])
    assert out["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    with pytest.raises(InvalidRequest):
        _anthropic([{"role": "user", "content": "  "}])


def test_anthropic_tool_results_come_first_and_empty_results_have_no_content() -> None:
    out = _anthropic(
        [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
            {"role": "user", "content": "also this"},
            {"role": "tool", "tool_call_id": "call_1", "content": ""},
        ]
    )
    assert out["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "call_1"},
        {"type": "text", "text": "also this"},
    ]


def test_anthropic_system_is_a_string_unless_a_part_is_cached() -> None:
    plain = _anthropic(
        [
            {"role": "system", "content": "A"},
            {"role": "developer", "content": [{"type": "text", "text": "B"}]},
            {"role": "user", "content": "q"},
        ]
    )
    assert plain["system"] == "A\n\nB"
    cached = {"type": "ephemeral", "ttl": "1h"}
    blocks = _anthropic(
        [
            {"role": "system", "content": [{"type": "text", "text": "A", "cache_control": cached}]},
            {"role": "user", "content": "q"},
        ]
    )
    assert blocks["system"] == [{"type": "text", "text": "A", "cache_control": cached}]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"temperature": 1.5, "top_p": 0.5}, {"temperature": 1.0}),
        ({"top_p": 0.5}, {"top_p": 0.5}),
        ({"stop": "END"}, {"stop_sequences": ["END"]}),
        ({"stop": ["", "END"]}, {"stop_sequences": ["END"]}),
        ({"max_completion_tokens": 7, "max_tokens": 9}, {"max_tokens": 7}),
        ({"user": "tenant-42"}, {"metadata": {"user_id": "tenant-42"}}),
    ],
)
def test_anthropic_options(body: dict[str, Any], expected: dict[str, Any]) -> None:
    out = _anthropic([{"role": "user", "content": "q"}], **body)
    assert {k: out[k] for k in expected} == expected
    assert not ({"temperature", "top_p"} <= set(out))


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("none", False, {"type": "none"}),
        ("auto", None, {"type": "auto"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        (
            {"type": "function", "function": {"name": "f"}},
            False,
            {"type": "tool", "name": "f", "disable_parallel_tool_use": True},
        ),
    ],
)
def test_anthropic_tool_choice(choice: Any, parallel: bool | None, expected: dict[str, Any]) -> None:
    tools = [{"type": "function", "function": {"name": "f"}}]
    body: dict[str, Any] = {"tools": tools, "tool_choice": choice, "parallel_tool_calls": parallel}
    assert _anthropic([{"role": "user", "content": "q"}], **body)["tool_choice"] == expected


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"stop": [" "]}, "stop"),
        ({"n": 2}, "n"),
        (
            {"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]},
            "messages[0].content[0].type",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "data:image/svg+xml;base64,AA"}}],
                    }
                ]
            },
            "messages[0].content[0]",
        ),
    ],
)
def test_anthropic_refuses_what_it_cannot_express(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        to_anthropic(ChatRequest("m", {"messages": [{"role": "user", "content": "q"}], **body}), stream=False)
    assert refused.value.details == {"param": param}


def test_gemini_signature_round_trip_and_placeholder() -> None:
    payload = {
        "responseId": "r1",
        "candidates": [
            {"content": {"parts": [{"functionCall": {"name": "web_search", "args": {}}, "thoughtSignature": "c2ln"}]}}
        ],
    }
    _, (call,), _ = _read_candidate(payload)
    assert call["extra_content"] == {"google": {"thought_signature": "c2ln"}}
    assert call["function"]["arguments"] == "{}"
    history = [{"role": "user", "content": "q"}, {"role": "assistant", "content": None, "tool_calls": [call]}]
    parts = to_gemini(ChatRequest("gemini-3-pro-preview", {"messages": history}))["contents"][1]["parts"]
    assert parts == [{"functionCall": {"name": "web_search", "args": {}}, "thoughtSignature": "c2ln"}]
    unsigned = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": None, "tool_calls": [CALL, {**CALL, "id": "call_2"}]},
    ]
    parts = to_gemini(ChatRequest("gemini-3-pro-preview", {"messages": unsigned}))["contents"][1]["parts"]
    assert [p.get("thoughtSignature") for p in parts] == ["skip_thought_signature_validator", None]
    parts = to_gemini(ChatRequest("gemini-2.5-flash", {"messages": unsigned}))["contents"][1]["parts"]
    assert all("thoughtSignature" not in p for p in parts)


def test_gemini_drops_empty_text_and_maps_options() -> None:
    out = to_gemini(
        ChatRequest(
            "gemini-2.5-flash",
            {
                "messages": [
                    {"role": "system", "content": ""},
                    {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "q"}]},
                ],
                "seed": 3,
                "presence_penalty": 0.5,
                "stop": ["", "X"],
            },
        )
    )
    assert "systemInstruction" not in out
    assert out["contents"] == [{"role": "user", "parts": [{"text": "q"}]}]
    assert out["generationConfig"] == {"seed": 3, "presencePenalty": 0.5, "stopSequences": ["X"]}


def test_yandex_tool_choice_and_refusals() -> None:
    target = ProviderTarget("yandex", "", "k", options={"folder_id": "f"})
    tools = [{"type": "function", "function": {"name": "f"}}]
    body = {"messages": [{"role": "user", "content": "q"}], "tools": tools, "parallel_tool_calls": False}
    out = to_yandex(target, ChatRequest("yandexgpt", {**body, "tool_choice": "required"}), False)
    assert (out["toolChoice"], out["parallelToolCalls"]) == ({"mode": "REQUIRED"}, False)
    named = {"type": "function", "function": {"name": "f"}}
    assert to_yandex(target, ChatRequest("yandexgpt", {**body, "tool_choice": named}), False)["toolChoice"] == {
        "functionName": "f"
    }
    with pytest.raises(InvalidRequest) as refused:
        to_yandex(target, ChatRequest("yandexgpt", {**body, "stop": ["\n"]}), False)
    assert refused.value.details == {"param": "stop"}


def test_openai_compatible_bodies() -> None:
    assert is_reasoning_model("o3-mini") and is_reasoning_model("gpt-5") and not is_reasoning_model("gpt-5-chat-latest")
    assert not is_reasoning_model("gpt-4o")
    signed = {**CALL, "extra_content": {"google": {"thought_signature": "s"}}}
    messages = [
        {"role": "developer", "content": [{"type": "text", "text": "d"}]},
        {"role": "assistant", "tool_calls": [signed]},
    ]
    request = ChatRequest("o3-mini", {"messages": messages, "max_tokens": 5, "temperature": 0.2, "top_p": 1})
    sent = openai_body("openai", request, stream=True)
    assert (sent["max_completion_tokens"], "max_tokens" in sent, "temperature" in sent) == (5, False, False)
    assert sent["messages"][1]["tool_calls"] == [CALL] and sent["stream_options"] == {"include_usage": True}
    deepseek = openai_body(
        "deepseek", ChatRequest("deepseek-chat", {"messages": messages, "max_completion_tokens": 5}), False
    )
    assert deepseek["messages"][0] == {"role": "system", "content": "d"} and deepseek["max_tokens"] == 5
    plain = openai_body(
        "openai", ChatRequest("gpt-4o", {"messages": messages, "max_tokens": 5, "temperature": 0.2}), False
    )
    assert (plain["max_tokens"], plain["temperature"], plain["messages"][0]["role"]) == (5, 0.2, "developer")


def test_n_above_one_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        require_single_choice({"n": 3}, "gemini")
    require_single_choice({"n": 1}, "gemini")


def test_refusal_reasons_are_structured_fields_only() -> None:
    assert safe_token("messages[1].content") == "messages[1].content"
    assert safe_token("ignore this: sk-live-abc def") is None and safe_token(3) is None
    anthropic = classify_anthropic(
        400,
        {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "messages: final assistant content cannot end with trailing whitespace",
            },
        },
        {},
    )
    assert anthropic.message == (
        "anthropic refused the request as invalid (HTTP 400): error type invalid_request_error, parameter messages"
    )
    # A message that does not start with a known field path names no parameter
    free = classify_anthropic(
        400, {"type": "error", "error": {"type": "invalid_request_error", "message": "secret: x"}}, {}
    )
    assert free.param is None and "secret" not in free.message
    gemini = classify_gemini(
        400,
        {
            "error": {
                "code": 400,
                "status": "INVALID_ARGUMENT",
                "message": "Function call is missing a thought_signature",
            }
        },
        {},
    )
    assert gemini.kind is FailureKind.BAD_REQUEST
    assert gemini.message == "gemini refused the request as invalid (HTTP 400): error type INVALID_ARGUMENT"
    openai_error = classify_openai("openai")(
        400,
        {
            "error": {
                "type": "invalid_request_error",
                "code": "unsupported_parameter",
                "param": "max_tokens",
                "message": "m",
            }
        },
        {},
    )
    client = to_gateway_error(openai_error)
    assert str(client) == (
        "openai refused the request as invalid (HTTP 400): error type unsupported_parameter, parameter max_tokens"
    )
    assert client.details == {"param": "max_tokens"}


def test_openai_messages_are_copied_only_when_changed() -> None:
    """Copy on write: a message the provider takes as is is sent as the caller's own dict (no copy
    per message on the hot path); a changed one is a new dict and the caller's stays as it was."""
    user: dict[str, Any] = {"role": "user", "content": "hi", "name": "bob"}
    tool_call: dict[str, Any] = {"role": "assistant", "tool_calls": [CALL]}
    signed: dict[str, Any] = {
        "role": "assistant",
        "tool_calls": [{**CALL, "extra_content": {"google": {"thought_signature": "s"}}}],
    }
    developer: dict[str, Any] = {"role": "developer", "content": [{"type": "text", "text": "d"}]}
    messages = [user, tool_call, signed, developer]
    snapshot = [dict(m) for m in messages]
    sent = openai_body("openai", ChatRequest("gpt-4o", {"messages": messages}), False)["messages"]
    assert sent[0] is user and sent[1] is tool_call and sent[3] is developer
    assert sent[2] is not signed and sent[2] == {"role": "assistant", "tool_calls": [CALL]}
    other = openai_body("deepseek", ChatRequest("deepseek-chat", {"messages": messages}), False)["messages"]
    assert other[0] is user and other[3] == {"role": "system", "content": "d"}
    assert messages == snapshot and signed["tool_calls"][0]["extra_content"] == {"google": {"thought_signature": "s"}}
