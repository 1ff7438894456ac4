"""The built-in ``mock`` provider: deterministic answers with realistic usage, no network, no key.

``mock/echo`` repeats the last user message, and answers ``/v1/embeddings`` with deterministic
unit vectors (16 dimensions unless ``dimensions`` asks otherwise), so every model endpoint can be
tried without a provider key. The prompt is counted by the gateway's own estimator
(``metering.prompt``) and the answer at ~4 characters per token, so costs look like real ones and
a call's cost equals its reserved worst case when the answer fills ``max_tokens``.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from tollgate.metering.prompt import prompt_tokens as estimate_prompt
from tollgate.metering.text import heuristic_text_tokens
from tollgate.providers import embeddings
from tollgate.providers.base import ChatRequest, ChatResponse, ProviderTarget, Usage
from tollgate.providers.embeddings import EmbeddingRequest

if TYPE_CHECKING:
    from tollgate.providers.http import UpstreamHttp
    from tollgate.providers.registry import ProviderSpec

MOCK_MODELS = ("echo",)
EMBEDDING_DIMENSIONS = 16


def count_text_tokens(text: str) -> int:
    return heuristic_text_tokens(text)


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def prompt_tokens(body: Mapping[str, Any]) -> int:
    """The mock reports the gateway's own prompt estimate (``metering.prompt``), so a reservation
    for a mock call is exactly its prompt cost."""
    return estimate_prompt(MockProvider.name, "echo", body).tokens


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
        usage = Usage(input_tokens=prompt_tokens(request.body), output_tokens=count_text_tokens(text))
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

    async def embed(self, target: ProviderTarget, request: EmbeddingRequest) -> ChatResponse:
        """One deterministic unit vector per input (the same input always gives the same vector);
        input tokens by the gateway's estimator, as Gemini's are."""
        size = request.dimensions or EMBEDDING_DIMENSIONS
        vectors = [_unit_vector(repr(item), size) for item in request.inputs]
        usage = Usage(input_tokens=embeddings.estimate_input_tokens(request.inputs))
        body = embeddings.embedding_list(vectors, request.model, usage, request.encoding_format)
        return ChatResponse(body=body, usage=usage)


def _unit_vector(text: str, size: int) -> list[float]:
    raw = hashlib.shake_256(text.encode()).digest(2 * size)
    values = [int.from_bytes(raw[i : i + 2], "big") / 32767.5 - 1.0 for i in range(0, 2 * size, 2)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


class MockStream:
    def __init__(self, request: ChatRequest) -> None:
        self._request = request
        self._usage = Usage(input_tokens=prompt_tokens(request.body))
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


def adapter(http: UpstreamHttp, spec: ProviderSpec) -> MockProvider:
    """The registry's adapter factory (``tollgate.providers.registry``): no transport needed."""
    return MockProvider()
