"""The pure Anthropic translation, stream encoder and error mapping."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tollgate import errors
from tollgate.anthropic_api.errors import anthropic_status_and_type
from tollgate.anthropic_api.native import NativeHeaders, native_body
from tollgate.anthropic_api.stream import AnthropicStreamEncoder, sse_event, text_delta_event
from tollgate.anthropic_api.translate import to_anthropic_message, to_openai
from tollgate.guardrails.service import GuardrailBlocked
from tollgate.providers.base import Usage


def _events(chunks: list[bytes]) -> list[dict[str, Any]]:
    return [json.loads(c.decode().split("data: ", 1)[1]) for c in chunks]


def test_request_translation_keeps_roles_tools_images_and_cache_breakpoints() -> None:
    # Given a conversation with a cached system block, an image, a tool call and its result
    request = {
        "model": "openai/gpt-4o",
        "max_tokens": 100,
        "system": [{"type": "text", "text": "Rules", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Look"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAA"}},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "hm", "signature": "sig"},
                    {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}},
                ],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]},
        ],
        "tools": [{"name": "f", "description": "d", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "stop_sequences": ["END"],
        "thinking": {"type": "enabled", "budget_tokens": 10},
        "top_k": 5,
        "metadata": {"user_id": "u"},
    }
    # When it is translated
    out = to_openai(request)
    # Then the OpenAI body says the same thing; thinking and top_k are dropped, nothing is refused
    assert out.refused == []
    assert out.body["messages"] == [
        {"role": "system", "content": [{"type": "text", "text": "Rules", "cache_control": {"type": "ephemeral"}}]},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "ok"},
    ]
    assert out.body["tools"] == [
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}, "description": "d"}}
    ]
    assert (out.body["tool_choice"], out.body["parallel_tool_calls"]) == ("required", False)
    assert (out.body["stop"], out.body["user"], out.body["max_tokens"]) == (["END"], "u", 100)
    assert "thinking" not in out.body and "top_k" not in out.body


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "server tool 'web_search_20250305'"),
        ({"mcp_servers": [{"type": "url", "url": "https://x"}]}, "mcp_servers"),
        ({"messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}]}, "document blocks"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]}]},
            "image source 'file'",
        ),
    ],
)
def test_untranslatable_features_are_named(extra: dict[str, Any], named: str) -> None:
    request = {"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}], **extra}
    out = to_openai(request)
    assert named in out.refusal_message("openai")


def test_completion_becomes_a_message_with_anthropic_usage() -> None:
    completion = {
        "id": "chatcmpl-1",
        "choices": [
            {
                "message": {
                    "content": "Hi",
                    "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"x": 2}'}}
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
    usage = Usage(input_tokens=10, cache_read_tokens=5, output_tokens=3)
    message = to_anthropic_message(completion, "openai/gpt-4o", usage)
    assert message["id"] == "msg_chatcmpl-1" and message["stop_reason"] == "tool_use"
    assert message["content"] == [
        {"type": "text", "text": "Hi"},
        {"type": "tool_use", "id": "call_1", "name": "f", "input": {"x": 2}},
    ]
    assert message["usage"]["input_tokens"] == 10 and message["usage"]["cache_read_input_tokens"] == 5


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "c1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def test_encoder_produces_anthropics_event_sequence() -> None:
    encoder = AnthropicStreamEncoder("openai/gpt-4o", input_tokens_hint=7)
    out: list[bytes] = []
    out += encoder.feed(_chunk({"role": "assistant", "content": ""}))
    out += encoder.feed(_chunk({"content": "Hi"}))
    out += encoder.feed(
        _chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
                ]
            }
        )
    )
    out += encoder.feed(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]}))
    out += encoder.feed(_chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}))
    out += encoder.feed(_chunk({}, "tool_calls"))
    out += encoder.finish(Usage(input_tokens=9, output_tokens=4))
    assert encoder.finish(Usage()) == []  # exactly once
    events = _events(out)
    assert [e["type"] for e in events] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[0]["message"]["usage"]["input_tokens"] == 7 and events[0]["message"]["id"] == "msg_c1"
    assert events[5]["content_block"] == {"type": "tool_use", "id": "call_1", "name": "f", "input": {}}
    assert events[6]["delta"] == {"type": "input_json_delta", "partial_json": '{"a":'}
    assert events[9]["delta"]["stop_reason"] == "tool_use"
    assert events[9]["usage"]["input_tokens"] == 9 and events[9]["usage"]["output_tokens"] == 4
    assert all(c.startswith(f"event: {e['type']}\n".encode()) for c, e in zip(out, events, strict=True))


def test_encoder_error_and_empty_stream() -> None:
    encoder = AnthropicStreamEncoder("m")
    assert _events(encoder.error("overloaded_error", "busy", "req_1")) == [
        {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}, "request_id": "req_1"}
    ]
    empty = _events(AnthropicStreamEncoder("m").finish(Usage()))
    assert [e["type"] for e in empty] == ["message_start", "ping", "message_delta", "message_stop"]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (errors.AuthenticationFailed("x"), (401, "authentication_error")),
        (errors.PermissionDenied("x"), (403, "permission_error")),
        (errors.NotFound("x"), (404, "not_found_error")),
        (errors.InvalidRequest("x", status=404), (404, "not_found_error")),
        (errors.InvalidRequest("x", status=413), (413, "request_too_large")),
        (errors.InvalidRequest("x"), (400, "invalid_request_error")),
        (errors.BudgetExceeded("x"), (402, "billing_error")),
        (errors.ProviderQuotaError("x"), (402, "billing_error")),
        (errors.ProviderAuthError("x"), (403, "permission_error")),
        (errors.RateLimited("x"), (429, "rate_limit_error")),
        (errors.PricingUnavailable("x"), (400, "invalid_request_error")),
        (errors.ProviderUnavailable("x", status=503), (529, "overloaded_error")),
        (errors.ProviderUnavailable("x", status=504), (504, "timeout_error")),
        (errors.ProviderUnavailable("x"), (502, "api_error")),
        (errors.ServiceUnavailable("x"), (503, "api_error")),
        (errors.InternalError("x"), (500, "api_error")),
        (GuardrailBlocked("pii_card"), (400, "invalid_request_error")),  # was a 500 api_error
        (errors.InvalidRequest("x", status=409, code="duplicate_name"), (409, "invalid_request_error")),
    ],
)
def test_error_mapping(error: errors.TollgateError, expected: tuple[int, str]) -> None:
    assert anthropic_status_and_type(error) == expected


def test_native_body_and_headers() -> None:
    body = {"model": "anthropic/claude", "stream": False, "max_tokens": 1, "messages": []}
    assert native_body(body, "claude", stream=True) == {
        "model": "claude",
        "max_tokens": 1,
        "messages": [],
        "stream": True,
    }
    headers = NativeHeaders.from_request({"anthropic-beta": "a, b", "anthropic-version": "2026-10-21"})
    assert headers.upstream("b,c") == {"anthropic-version": "2026-10-21", "anthropic-beta": "a,b,c"}
    assert NativeHeaders().upstream() == {"anthropic-version": "2023-06-01"}


@pytest.mark.parametrize("text", ["Hi", 'quote " and \\ backslash', "üñí 😀\n\t", ""])
def test_fast_text_delta_is_byte_identical(text: str) -> None:
    event = {"type": "content_block_delta", "index": 3, "delta": {"type": "text_delta", "text": text}}
    assert text_delta_event(3, text) == sse_event(event)
