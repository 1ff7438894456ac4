"""Fake Yandex Foundation Models (§5): {"result": ...} with string token counts, NDJSON streaming of
cumulative text, grpc-gateway error bodies."""

from __future__ import annotations

import json
from typing import Any

from tests.fake_providers import rules
from tests.fake_providers.base import FakeProvider, Recorded, Reply, has_tools, wants_stream


def result(text: str | None, status: str, usage: tuple[str, str], *, tool: bool = False) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant"}
    if tool:
        message["toolCallList"] = {
            "toolCalls": [{"functionCall": {"name": "get_weather", "arguments": {"city": "Paris"}}}]
        }
    else:
        message["text"] = text
    return {
        "result": {
            "alternatives": [{"message": message, "status": status}],
            "usage": {
                "inputTextTokens": usage[0],
                "completionTokens": usage[1],
                "totalTokens": str(int(usage[0]) + int(usage[1])),
                "completionTokensDetails": {"reasoningTokens": "0"},
            },
            "modelVersion": "23.10.2024",
        }
    }


def stream_lines(*, tool: bool = False) -> list[str]:
    objects = [
        result("Hi", "ALTERNATIVE_STATUS_PARTIAL", ("19", "1")),
        result("Hi there", "ALTERNATIVE_STATUS_PARTIAL", ("19", "3")),
    ]
    if tool:
        objects.append(result(None, "ALTERNATIVE_STATUS_TOOL_CALLS", ("19", "6"), tool=True))
    else:
        objects.append(result("Hi there.", "ALTERNATIVE_STATUS_FINAL", ("19", "6")))
    return [json.dumps(o) + "\n" for o in objects]


def error(http: int, grpc: int, message: str, status_text: str) -> Reply:
    return Reply(
        status=http,
        body={
            "error": {"grpcCode": grpc, "httpCode": http, "message": message, "httpStatus": status_text, "details": []}
        },
    )


UNKNOWN_KEY = error(401, 16, "Unknown api key 'AQVN...'", "Unauthorized")


def reply(request: Recorded) -> Reply:
    if request.path.endswith("/tokenize"):
        return Reply(body={"tokens": [{"id": "1", "text": "ping", "special": False}], "modelVersion": "23.10.2024"})
    if wants_stream(request) or (
        isinstance(request.body, dict) and request.body.get("completionOptions", {}).get("stream")
    ):
        return Reply(events=stream_lines(tool=has_tools(request)), content_type="application/json")
    if has_tools(request):
        return Reply(body=result(None, "ALTERNATIVE_STATUS_TOOL_CALLS", ("19", "6"), tool=True))
    return Reply(body=result("Hi.", "ALTERNATIVE_STATUS_FINAL", ("19", "6")))


def fake_yandex() -> FakeProvider:
    return FakeProvider(reply, rules.yandex)
