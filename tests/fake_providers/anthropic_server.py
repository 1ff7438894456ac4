"""Fake Anthropic Messages API (§2): JSON, the named SSE event sequence, error bodies and headers."""

from __future__ import annotations

import json
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


THINKING = {"type": "thinking", "thinking": "The user greets me.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3h"}


def message(*, tool: bool = False, thinking: bool = False) -> dict[str, Any]:
    content: list[dict[str, Any]] = [THINKING] if thinking else []
    content.append({"type": "text", "text": "Let me check." if tool else "Hi."})
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


def thinking_events() -> list[str]:
    """A thinking block at index 0: thinking_delta then signature_delta (§2 streaming)."""
    block = {"type": "thinking", "thinking": "", "signature": ""}
    return [
        sse({"type": "content_block_start", "index": 0, "content_block": block}, "content_block_start"),
        sse(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": THINKING["thinking"]},
            },
            "content_block_delta",
        ),
        sse(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "signature_delta", "signature": THINKING["signature"]},
            },
            "content_block_delta",
        ),
        sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
    ]


def stream_events(*, tool: bool = False, final: bool = True, thinking: bool = False) -> list[str]:
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
    first = 1 if thinking else 0
    events = [sse(start, "message_start"), *(thinking_events() if thinking else [])]
    events += [
        sse(
            {"type": "content_block_start", "index": first, "content_block": {"type": "text", "text": ""}},
            "content_block_start",
        ),
        sse({"type": "ping"}, "ping"),
        sse(
            {"type": "content_block_delta", "index": first, "delta": {"type": "text_delta", "text": "Hi."}},
            "content_block_delta",
        ),
        sse({"type": "content_block_stop", "index": first}, "content_block_stop"),
    ]
    if tool:
        block = {"type": "tool_use", "id": TOOL_USE["id"], "name": "get_weather", "input": {}}
        at = first + 1
        events += [
            sse({"type": "content_block_start", "index": at, "content_block": block}, "content_block_start"),
            sse(
                {
                    "type": "content_block_delta",
                    "index": at,
                    "delta": {"type": "input_json_delta", "partial_json": '{"city":'},
                },
                "content_block_delta",
            ),
            sse(
                {
                    "type": "content_block_delta",
                    "index": at,
                    "delta": {"type": "input_json_delta", "partial_json": ' "Paris"}'},
                },
                "content_block_delta",
            ),
            sse({"type": "content_block_stop", "index": at}, "content_block_stop"),
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


def wants_thinking(request: Recorded) -> bool:
    thinking = request.body.get("thinking") if isinstance(request.body, dict) else None
    return isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive")


def invalid_request(request: Recorded) -> str | None:
    """What Anthropic answers 400 to (§2): no max_tokens on /v1/messages, a thinking block sent back
    without its signature, a tool_result whose tool_use id the assistant never produced."""
    body = request.body if isinstance(request.body, dict) else {}
    if request.path == "/v1/messages" and not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    tool_ids: set[str] = set()
    for message in body.get("messages") or ():
        for block in message.get("content") if isinstance(message.get("content"), list) else ():
            if block.get("type") == "thinking" and not block.get("signature"):
                return "messages: thinking blocks must carry their signature"
            if block.get("type") == "tool_use":
                tool_ids.add(str(block.get("id")))
            if block.get("type") == "tool_result" and block.get("tool_use_id") not in tool_ids:
                return "messages: tool_result refers to an unknown tool_use id"
    return None


def count_tokens(request: Recorded) -> int:
    """A deterministic count (characters / 4 of the JSON of what counts), not Anthropic's tokenizer."""
    body = request.body if isinstance(request.body, dict) else {}
    counted = {k: body.get(k) for k in ("system", "messages", "tools")}
    return max(1, len(json.dumps(counted)) // 4)


def reply(request: Recorded) -> Reply:
    if request.method == "GET":
        return Reply(body={"data": [{"type": "model", "id": "claude-sonnet-4-5"}], "has_more": False})
    problem = invalid_request(request)
    if problem:
        return error(400, "invalid_request_error", problem)
    if request.path == "/v1/messages/count_tokens":
        return Reply(body={"input_tokens": count_tokens(request)})
    thinking = wants_thinking(request)
    if wants_stream(request):
        return Reply(events=stream_events(tool=has_tools(request), thinking=thinking))
    return Reply(body=message(tool=has_tools(request), thinking=thinking))


def fake_anthropic() -> FakeProvider:
    return FakeProvider(reply, rules.anthropic)
