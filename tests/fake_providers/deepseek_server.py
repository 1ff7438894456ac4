"""Fake DeepSeek (OpenAI-compatible, §4): prompt_cache_hit/miss usage, keep-alive comments, 402 balance."""

from __future__ import annotations

from functools import partial

from tests.fake_providers import openai_server, rules
from tests.fake_providers.base import FakeProvider, Recorded, Reply, has_tools, sse, wants_stream

USAGE = {
    "prompt_tokens": 10000,
    "completion_tokens": 500,
    "total_tokens": 10500,
    "prompt_cache_hit_tokens": 9000,
    "prompt_cache_miss_tokens": 1000,
    "prompt_tokens_details": {"cached_tokens": 9000},
    "completion_tokens_details": {"reasoning_tokens": 350},
}
STREAM_USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": 3,
    "total_tokens": 15,
    "prompt_cache_hit_tokens": 8,
    "prompt_cache_miss_tokens": 4,
    "prompt_tokens_details": {"cached_tokens": 8},
}
INSUFFICIENT_BALANCE = Reply(
    status=402,
    body={
        "error": {
            "message": "Insufficient Balance",
            "type": "unknown_error",
            "param": None,
            "code": "invalid_request_error",
        }
    },
)


def reply(request: Recorded) -> Reply:
    if request.method == "GET":
        return Reply(
            body={"object": "list", "data": [{"id": "deepseek-chat", "object": "model", "owned_by": "deepseek"}]}
        )
    if wants_stream(request):
        # Under load DeepSeek sends SSE keep-alive comments before the first event.
        events = [": keep-alive\n\n", *openai_server.stream_events(usage=STREAM_USAGE, tool=has_tools(request))]
        return Reply(events=events)
    # ...and blank lines before a non-streaming JSON body.
    import json

    return Reply(body=b"\n\n" + json.dumps(openai_server.completion(USAGE, tool=has_tools(request))).encode())


def fake_deepseek() -> FakeProvider:
    return FakeProvider(reply, partial(rules.openai, deepseek=True))


__all__ = ["INSUFFICIENT_BALANCE", "fake_deepseek", "sse"]
