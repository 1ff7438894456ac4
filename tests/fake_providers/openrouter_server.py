"""Fake OpenRouter (§6): always-on usage with cost and cache_write_tokens, ': OPENROUTER PROCESSING'
comments, numeric error codes, in-band mid-stream errors."""

from __future__ import annotations

import json

from tests.fake_providers import openai_server, rules
from tests.fake_providers.base import FakeProvider, Recorded, Reply, has_tools, sse, wants_stream

USAGE = {
    "prompt_tokens": 194,
    "completion_tokens": 2,
    "total_tokens": 196,
    "prompt_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 100, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0},
    "cost": 0.0012,
    "is_byok": False,
    "cost_details": {
        "upstream_inference_cost": None,
        "upstream_inference_prompt_cost": 0.0008,
        "upstream_inference_completions_cost": 0.0004,
    },
}
STREAM_USAGE = {**USAGE, "prompt_tokens": 20, "prompt_tokens_details": {"cached_tokens": 5, "cache_write_tokens": 0}}
NO_CREDITS = Reply(
    status=402,
    body={
        "error": {
            "code": 402,
            "message": "Insufficient credits. Add more using https://openrouter.ai/credits",
            "metadata": {},
        }
    },
)
IN_BAND_ERROR = sse(
    {
        "id": "gen-1",
        "object": "chat.completion.chunk",
        "created": 1763900000,
        "model": "openai/gpt-4o-mini",
        "error": {"code": 502, "message": "Provider returned error"},
        "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": "error"}],
    }
)


def reply(request: Recorded) -> Reply:
    if request.method == "GET":
        return Reply(body={"data": {"label": "sk-or-v1-...", "limit": None, "usage": 0.5}})
    if wants_stream(request):
        events = [
            ": OPENROUTER PROCESSING\n\n",
            *openai_server.stream_events(usage=STREAM_USAGE, tool=has_tools(request)),
        ]
        return Reply(events=events, headers={"x-generation-id": "gen-1"})
    return Reply(body=json.loads(json.dumps(openai_server.completion(USAGE, tool=has_tools(request)))))


def fake_openrouter() -> FakeProvider:
    return FakeProvider(reply, rules.openai)
