"""Shared machinery of translated streams: OpenAI chunk building and metering of what was produced.

A stream reports the provider's own usage once it has seen it. If the stream is cut short (client
gone, upstream reset) before the provider's final counts arrived, the output is estimated from the
text actually produced (never less than what the provider already reported), and the input from the
provider's count when known, else from the prompt estimate.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx

from tollgate.metering.prompt import prompt_tokens
from tollgate.metering.text import text_tokens
from tollgate.providers.base import ChatRequest, Usage


def make_chunk(
    chunk_id: str, model: str, created: int, delta: dict[str, Any], finish_reason: str | None = None
) -> dict[str, Any]:
    return {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def make_completion(
    completion_id: str, model: str, message: dict[str, Any], finish_reason: str, usage: Usage
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": usage.to_openai(),
    }


class MeteredStream(ABC):
    """Base of every HTTP-backed adapter stream. Subclasses implement ``_chunks`` and set
    ``self._reported`` whenever the provider reports (cumulative) usage."""

    def __init__(self, provider: str, response: httpx.Response, request: ChatRequest) -> None:
        self.provider = provider
        self._response = response
        self._request = request
        self._reported: Usage | None = None
        self._produced_chars = 0
        self._produced: list[str] = []
        self._finished = False
        self._prompt_estimate: int | None = None

    @property
    def usage(self) -> Usage:
        estimated_output = text_tokens("".join(self._produced))
        if self._reported is None:
            if self._prompt_estimate is None:
                self._prompt_estimate = prompt_tokens(self.provider, self._request.model, self._request.body).tokens
            return Usage(input_tokens=self._prompt_estimate, output_tokens=estimated_output, estimated=True)
        if self._finished or self._reported.output_tokens >= estimated_output:
            return self._reported
        return replace(self._reported, output_tokens=estimated_output, estimated=True)

    def close(self) -> None:
        self._response.close()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            for chunk in self._chunks():
                self._note(chunk)
                yield chunk
            self._finished = True
        finally:
            self._response.close()

    @abstractmethod
    def _chunks(self) -> Iterator[dict[str, Any]]:
        """The provider's stream translated to OpenAI chunk dicts (each adapter implements it)."""

    def _note(self, chunk: dict[str, Any]) -> None:
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            for key in ("content", "reasoning_content"):
                text = delta.get(key)
                if isinstance(text, str) and text:
                    self._produced.append(text)
            for call in delta.get("tool_calls") or ():
                arguments = (call.get("function") or {}).get("arguments")
                if isinstance(arguments, str) and arguments:
                    self._produced.append(arguments)
