"""OpenAI request → provider request translation (what the contract suite's simple prompts don't reach)."""

from __future__ import annotations

from typing import Any

import pytest

from tollgate.errors import InvalidRequest
from tollgate.providers.anthropic import to_anthropic
from tollgate.providers.base import ChatRequest, ProviderTarget
from tollgate.providers.gemini import to_gemini
from tollgate.providers.yandex import to_yandex

PIXEL = "data:image/png;base64,iVBORw0KGgo="
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": False},
    },
}
HISTORY: list[dict[str, Any]] = [
    {"role": "system", "content": "Be brief."},
    {"role": "developer", "content": "Use tools."},
    {
        "role": "user",
        "content": [{"type": "text", "text": "What is here?"}, {"type": "image_url", "image_url": {"url": PIXEL}}],
    },
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
            {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'}},
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    {"role": "tool", "tool_call_id": "call_2", "content": "rainy"},
]


def _request(**body: Any) -> ChatRequest:
    return ChatRequest("m", {"messages": HISTORY, **body})


def test_anthropic_translation() -> None:
    out = to_anthropic(
        _request(
            tools=[WEATHER_TOOL], tool_choice="required", temperature=1.5, response_format={"type": "json_object"}
        ),
        stream=False,
    )
    assert out["system"].startswith("Be brief.\n\nUse tools.\n\n") and "JSON" in out["system"]
    user, assistant, results = out["messages"]
    assert user["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }
    assert [b["input"] for b in assistant["content"]] == [{"city": "Paris"}, {"city": "Rome"}]
    # Consecutive tool results merge into one user turn (Anthropic requires alternating roles)
    assert results == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"},
            {"type": "tool_result", "tool_use_id": "call_2", "content": "rainy"},
        ],
    }
    assert out["tools"][0]["input_schema"]["properties"] == {"city": {"type": "string"}}
    assert out["tool_choice"] == {"type": "any"}
    assert out["temperature"] == 1.0 and out["max_tokens"] == 4096


def test_gemini_translation() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    out = to_gemini(
        _request(
            tools=[WEATHER_TOOL],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
            max_completion_tokens=99,
        )
    )
    assert out["systemInstruction"] == {"parts": [{"text": "Be brief.\n\nUse tools."}]}
    user, model, results = out["contents"]
    assert user["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    assert model["role"] == "model" and model["parts"][0] == {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}}
    }
    assert results["parts"][1] == {"functionResponse": {"name": "get_weather", "response": {"content": "rainy"}}}
    assert out["generationConfig"] == {
        "maxOutputTokens": 99,
        "responseMimeType": "application/json",
        "responseJsonSchema": schema,
    }
    declaration = out["tools"][0]["functionDeclarations"][0]
    assert "additionalProperties" not in declaration["parameters"]
    assert out["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}


def test_yandex_translation() -> None:
    target = ProviderTarget("yandex", "", "k", options={"folder_id": "b1gf"})
    text_only = {"role": "user", "content": [{"type": "text", "text": "What is here?"}]}
    out = to_yandex(
        target,
        ChatRequest(
            "yandexgpt",
            {
                "messages": [*HISTORY[:2], text_only, *HISTORY[3:]],
                "tools": [WEATHER_TOOL],
                "max_tokens": 50,
                "temperature": 1.7,
                "response_format": {"type": "json_object"},
            },
        ),
        True,
    )
    assert out["modelUri"] == "gpt://b1gf/yandexgpt/latest"
    assert out["completionOptions"] == {"stream": True, "temperature": 1.0, "maxTokens": "50"}
    assert out["messages"][0] == {"role": "system", "text": "Be brief."}
    assert out["messages"][2] == {"role": "user", "text": "What is here?"}
    calls = out["messages"][3]["toolCallList"]["toolCalls"]
    assert calls[1] == {"functionCall": {"name": "get_weather", "arguments": {"city": "Rome"}}}
    # The tool result names the function it answers (looked up from the call id)
    assert out["messages"][4]["toolResultList"]["toolResults"][0]["functionResult"] == {
        "name": "get_weather",
        "content": "sunny",
    }
    assert out["jsonObject"] is True and out["tools"][0]["function"]["name"] == "get_weather"
    rc = to_yandex(target, ChatRequest("yandexgpt/rc", {"messages": HISTORY[:1]}), False)
    assert rc["modelUri"] == "gpt://b1gf/yandexgpt/rc"


def test_yandex_needs_a_folder() -> None:
    with pytest.raises(InvalidRequest):
        to_yandex(ProviderTarget("yandex", "", "k"), ChatRequest("yandexgpt", {"messages": HISTORY[:1]}), False)


def test_malformed_tool_arguments_are_a_bad_request() -> None:
    broken = [{"role": "assistant", "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{nope"}}]}]
    with pytest.raises(InvalidRequest):
        to_anthropic(ChatRequest("m", {"messages": broken}), stream=False)
