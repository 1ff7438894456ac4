"""Fake Gemini API (§3): generateContent, streamGenerateContent?alt=sse, google.rpc.Status errors."""

from __future__ import annotations

from typing import Any

from tests.fake_providers import rules
from tests.fake_providers.base import FakeProvider, Recorded, Reply, has_tools, sse

USAGE = {
    "promptTokenCount": 1000,
    "cachedContentTokenCount": 300,
    "candidatesTokenCount": 400,
    "thoughtsTokenCount": 100,
    "toolUsePromptTokenCount": 0,
    "totalTokenCount": 1500,
    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1000}],
    "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 300}],
    "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 400}],
}
FUNCTION_CALL = {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}


def response(*, tool: bool = False) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [FUNCTION_CALL] if tool else [{"text": "Hi."}]
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": parts},
                "finishReason": "STOP",
                "index": 0,
                "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}],
            }
        ],
        "usageMetadata": USAGE,
        "modelVersion": "gemini-2.5-flash",
        "responseId": "mAitaNabc",
    }


def stream_events(*, tool: bool = False) -> list[str]:
    first_parts: list[dict[str, Any]] = [{"text": "Hi"}]
    last_parts: list[dict[str, Any]] = [FUNCTION_CALL] if tool else [{"text": "."}]
    return [
        sse(
            {
                "candidates": [{"content": {"role": "model", "parts": first_parts}, "index": 0}],
                "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9},
                "modelVersion": "gemini-2.5-flash",
                "responseId": "r1",
            }
        ),
        sse(
            {
                "candidates": [{"content": {"role": "model", "parts": last_parts}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": {
                    "promptTokenCount": 9,
                    "candidatesTokenCount": 2,
                    "thoughtsTokenCount": 31,
                    "totalTokenCount": 42,
                },
                "modelVersion": "gemini-2.5-flash",
                "responseId": "r1",
            }
        ),
    ]


API_KEY_INVALID = Reply(
    status=400,
    body={
        "error": {
            "code": 400,
            "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                },
                {
                    "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                    "locale": "en-US",
                    "message": "API key not valid. Please pass a valid API key.",
                },
            ],
        }
    },
)


def quota_exhausted(quota_id: str, retry_delay: str = "37s") -> Reply:
    return Reply(
        status=429,
        body={
            "error": {
                "code": 429,
                "message": "You exceeded your current quota, please check your plan and billing details.",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                        "violations": [
                            {
                                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                                "quotaId": quota_id,
                                "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                                "quotaValue": "10",
                            }
                        ],
                    },
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay},
                ],
            }
        },
    )


def batch_embed(request: Recorded) -> Reply:
    """``:batchEmbedContents``: one ``{"values"}`` per request; each request must name the same model
    as the path (``models/<id>``), as the API requires."""
    model = "models/" + request.path.rsplit("/", 1)[-1].removesuffix(":batchEmbedContents")
    requests = (request.body or {}).get("requests") if isinstance(request.body, dict) else None
    if not isinstance(requests, list) or not requests:
        return invalid_argument("requests is required")
    embeddings = []
    for item in requests:
        parts = (item.get("content") or {}).get("parts") or []
        if item.get("model") != model or not parts:
            return invalid_argument("each request needs the path's model and content.parts")
        size = item.get("outputDimensionality") or 8
        seed = len(parts[0].get("text", ""))
        embeddings.append({"values": [((seed + i) % 16) / 8 - 1 for i in range(size)]})
    return Reply(body={"embeddings": embeddings})


def invalid_argument(message: str) -> Reply:
    return Reply(status=400, body={"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})


def reply(request: Recorded) -> Reply:
    if request.method == "GET":
        return Reply(body={"models": [{"name": "models/gemini-2.5-flash"}]})
    if request.path.endswith(":batchEmbedContents"):
        return batch_embed(request)
    if request.path.endswith(":streamGenerateContent"):
        return Reply(events=stream_events(tool=has_tools(request)))
    return Reply(body=response(tool=has_tools(request)))


def fake_gemini() -> FakeProvider:
    return FakeProvider(reply, rules.gemini)
