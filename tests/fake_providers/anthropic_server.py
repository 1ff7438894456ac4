"""Fake Anthropic Messages API (§2): JSON, the named SSE event sequence, error bodies and headers."""

from __future__ import annotations

from typing import Any

from tests.fake_providers import rules
from tests.fake_providers.base import FakeProvider, Recorded, Reply, has_tools, sse, wants_stream

USAGE = {
    "input_tokens": 21,
    "cache_creation_input_tokens": 1800,
    "cache_read_input_tokens": 0,
    "cache_creation": {"ephemeral_5m_input_tokens": 1800, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 5,
    "service_tier": "standard",
}
TOOL_USE = {
    "type": "tool_use",
    "id": "toolu_01A09q90qw90lq917835lq9",
    "name": "get_weather",
    "input": {"city": "Paris"},
}


def message(*, tool: bool = False) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": "Let me check." if tool else "Hi."}]
    if tool:
        content.append(TOOL_USE)
    return {
        "id": "msg_01XYZ",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": "tool_use" if tool else "end_turn",
        "stop_sequence": None,
        "usage": USAGE,
    }


def stream_events(*, tool: bool = False, final: bool = True) -> list[str]:
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_01XYZ",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": 21,
                "cache_creation_input_tokens": 1800,
                "cache_read_input_tokens": 0,
                "output_tokens": 1,
            },
        },
    }
    events = [
        sse(start, "message_start"),
        sse(
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            "content_block_start",
        ),
        sse({"type": "ping"}, "ping"),
        sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi."}},
            "content_block_delta",
        ),
        sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
    ]
    if tool:
        block = {"type": "tool_use", "id": TOOL_USE["id"], "name": "get_weather", "input": {}}
        events += [
            sse({"type": "content_block_start", "index": 1, "content_block": block}, "content_block_start"),
            sse(
                {
                    "type": "content_block_delta",
                    "index": 1,
                    "delta": {"type": "input_json_delta", "partial_json": '{"city":'},
                },
                "content_block_delta",
            ),
            sse(
                {
                    "type": "content_block_delta",
                    "index": 1,
                    "delta": {"type": "input_json_delta", "partial_json": ' "Paris"}'},
                },
                "content_block_delta",
            ),
            sse({"type": "content_block_stop", "index": 1}, "content_block_stop"),
        ]
    if final:
        delta = {"stop_reason": "tool_use" if tool else "end_turn", "stop_sequence": None}
        events += [
            sse({"type": "message_delta", "delta": delta, "usage": {"output_tokens": 5}}, "message_delta"),
            sse({"type": "message_stop"}, "message_stop"),
        ]
    return events


def error(status: int, type_: str, message: str, headers: dict[str, str] | None = None, **extra: Any) -> Reply:
    body = {
        "type": "error",
        "error": {"type": type_, "message": message, **extra},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }
    return Reply(status=status, body=body, headers={"request-id": "req_011CSHoEeqs5C35K2UUqR7Fy", **(headers or {})})


OVERLOADED_EVENT = sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "error")


def reply(request: Recorded) -> Reply:
    if request.method == "GET":
        return Reply(body={"data": [{"type": "model", "id": "claude-sonnet-4-5"}], "has_more": False})
    if wants_stream(request):
        return Reply(events=stream_events(tool=has_tools(request)))
    return Reply(body=message(tool=has_tools(request)))


def fake_anthropic() -> FakeProvider:
    return FakeProvider(reply, rules.anthropic)
