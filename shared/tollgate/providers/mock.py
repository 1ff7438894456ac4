"""The built-in ``mock`` provider: deterministic answers with realistic usage, no network, no key.

``mock/echo`` repeats the last user message. Token counts follow the common ~4 characters per
token rule plus 4 tokens of framing per message, so costs look like real ones.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from tollgate.providers.base import ChatRequest, ChatResponse, ProviderTarget, Usage

MOCK_MODELS = ("echo",)
_MESSAGE_OVERHEAD_TOKENS = 4


def count_text_tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4) if text else 0


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(_MESSAGE_OVERHEAD_TOKENS + count_text_tokens(content_text(m.get("content"))) for m in messages)


def _answer(request: ChatRequest) -> str:
    for message in reversed(request.messages):
        if message.get("role") == "user":
            return content_text(message.get("content")) or "(empty)"
    return "(no user message)"


def _truncate(text: str, max_tokens: int | None) -> tuple[str, str]:
    if max_tokens is not None and count_text_tokens(text) > max_tokens:
        return text[: max(1, max_tokens) * 4], "length"
    return text, "stop"


class MockProvider:
    name = "mock"

    async def complete(self, target: ProviderTarget, request: ChatRequest) -> ChatResponse:
        text, finish = _truncate(_answer(request), request.max_tokens)
        usage = Usage(input_tokens=prompt_tokens(request.messages), output_tokens=count_text_tokens(text))
        body = {
            "id": f"chatcmpl-mock-{abs(hash(text)) % 10**12}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": finish,
                    "logprobs": None,
                }
            ],
            "usage": usage.to_openai(),
        }
        return ChatResponse(body=body, usage=usage)

    async def stream(self, target: ProviderTarget, request: ChatRequest) -> MockStream:
        return MockStream(request)

    def verify(self, target: ProviderTarget) -> None:
        return None


class MockStream:
    def __init__(self, request: ChatRequest) -> None:
        self._request = request
        self._usage = Usage(input_tokens=prompt_tokens(request.messages))
        self._closed = False

    @property
    def usage(self) -> Usage:
        return self._usage

    async def aclose(self) -> None:
        self._closed = True

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        text, finish = _truncate(_answer(self._request), self._request.max_tokens)
        created = int(time.time())
        base = {
            "id": "chatcmpl-mock-stream",
            "object": "chat.completion.chunk",
            "created": created,
            "model": self._request.model,
        }
        yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
        produced = ""
        for piece in _pieces(text):
            if self._closed:
                return
            produced += piece
            self._usage = Usage(input_tokens=self._usage.input_tokens, output_tokens=count_text_tokens(produced))
            yield {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}


def _pieces(text: str) -> Iterator[str]:
    words = text.split(" ")
    for index, word in enumerate(words):
        yield word if index == 0 else " " + word
