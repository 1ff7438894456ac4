"""Fake OpenAI Chat Completions (provider_wire_formats.md §1): JSON, SSE with include_usage, errors."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from tests.fake_providers import rules
from tests.fake_providers.base import FakeProvider, Recorded, Reply, has_tools, sse, wants_stream

USAGE = {
    "prompt_tokens": 2006,
    "completion_tokens": 300,
    "total_tokens": 2306,
    "prompt_tokens_details": {"cached_tokens": 1920, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}
STREAM_USAGE = {
    "prompt_tokens": 9,
    "completion_tokens": 2,
    "total_tokens": 11,
    "prompt_tokens_details": {"cached_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0},
}
TOOL_CALL = {
    "id": "call_abc123",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
}


def completion(usage: dict[str, Any] = USAGE, *, tool: bool = False, text: str = "Hi.") -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None if tool else text, "refusal": None}
    if tool:
        message["tool_calls"] = [TOOL_CALL]
    return {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1763900000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": "tool_calls" if tool else "stop"}
        ],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": "fp_44709d6fcb",
    }


def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None, choices: bool = True) -> dict[str, Any]:
    return {
        "id": "chatcmpl-abc",
        "object": "chat.completion.chunk",
        "created": 1763900000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else [],
        "usage": usage,
    }


def stream_events(
    pieces: tuple[str, ...] = ("Hi.",), usage: dict[str, Any] | None = STREAM_USAGE, *, tool: bool = False
) -> list[str]:
    events = [sse(chunk({"role": "assistant", "content": ""}))]
    if tool:
        call = {
            "index": 0,
            "id": TOOL_CALL["id"],
            "type": "function",
            "function": {"name": "get_weather", "arguments": ""},
        }
        events.append(sse(chunk({"tool_calls": [call]})))
        for part in ('{"city":', '"Paris"}'):
            events.append(sse(chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})))
    else:
        events.extend(sse(chunk({"content": piece})) for piece in pieces)
    events.append(sse(chunk({}, "tool_calls" if tool else "stop")))
    if usage is not None:
        events.append(sse(chunk({}, usage=usage, choices=False)))
    events.append(sse("[DONE]"))
    return events


def error(status: int, type_: str, code: str | None, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return Reply(status=status, body=body, headers=headers or {})


INVALID_KEY = (401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: sk-live-...abcd.")
INSUFFICIENT_QUOTA = (
    429,
    "insufficient_quota",
    "insufficient_quota",
    "You exceeded your current quota, please check your plan and billing details.",
)
RATE_LIMITED = (
    429,
    "requests",
    "rate_limit_exceeded",
    "Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): "
    "Limit 3, Used 3, Requested 1. Please try again in 1s.",
)
SERVER_ERROR = (500, "server_error", None, "The server had an error while processing your request.")
MODEL_NOT_FOUND = (
    404,
    "invalid_request_error",
    "model_not_found",
    "The model `gpt-9` does not exist or you do not have access to it.",
)


EMBEDDING_DIMENSIONS = 8


def vector(text: str, dimensions: int = EMBEDDING_DIMENSIONS) -> list[float]:
    """A deterministic unit-free vector per input (exactly representable in float32)."""
    seed = sum(ord(c) for c in text) % 97
    return [((seed + i) % 16) / 8 - 1 for i in range(dimensions)]


def embedding_tokens(item: Any) -> int:
    return len(item) if isinstance(item, list) else max(1, len(str(item).split()))


def embeddings(request: Recorded) -> Reply:
    """``POST /v1/embeddings``: float lists, or base64 little-endian float32 when asked."""
    body = request.body if isinstance(request.body, dict) else {}
    raw = body.get("input")
    items = [raw] if isinstance(raw, str) or (raw and isinstance(raw[0], int)) else list(raw or [])
    if not items or not isinstance(body.get("model"), str):
        return error(400, "invalid_request_error", None, "'input' and 'model' are required")
    dimensions = body.get("dimensions") or EMBEDDING_DIMENSIONS
    data = []
    for index, item in enumerate(items):
        values = vector(json.dumps(item), dimensions)
        encoded: Any = values
        if body.get("encoding_format") == "base64":
            encoded = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    tokens = sum(embedding_tokens(item) for item in items)
    return Reply(
        body={
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


def default_reply(usage: dict[str, Any] = USAGE, stream_usage: dict[str, Any] = STREAM_USAGE) -> Any:
    def reply(request: Recorded) -> Reply:
        if request.method == "GET":
            return Reply(
                body={"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model", "owned_by": "system"}]}
            )
        if request.path.endswith("/embeddings"):
            return embeddings(request)
        if wants_stream(request):
            return Reply(events=stream_events(usage=stream_usage, tool=has_tools(request)))
        return Reply(body=completion(usage, tool=has_tools(request)))

    return reply


def fake_openai() -> FakeProvider:
    return FakeProvider(default_reply(), rules.openai)
