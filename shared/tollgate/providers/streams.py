"""Shared machinery of translated streams: OpenAI chunk building and metering of what was produced.

A stream reports the provider's own usage once it has seen it. If the stream is cut short (client
gone, upstream reset) before the provider's final counts arrived, the output is estimated from the
text actually produced (never less than what the provider already reported), and the input from the
provider's count when known, else from the prompt estimate.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from tollgate.execution import deadline as deadlines
from tollgate.metering.prompt import prompt_tokens
from tollgate.metering.text import text_tokens
from tollgate.providers.base import ChatRequest, Usage
from tollgate.providers.http import SseEvent, SseParser, aiter_lines
from tollgate.providers.upstream_response import UpstreamResponse


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


class StreamDecoder(ABC):
    """Pure translation of a provider's streamed body, line by line, into OpenAI chunk dicts.

    ``feed`` takes one line (without its newline) and returns the chunks it completed; ``end`` is
    called once at the end of the body. ``done`` turns true at the provider's end marker (the rest
    is not read). ``reported`` is the provider's own (cumulative) usage once it has sent it.
    Protocol failures raise ``ProviderCallError``.
    """

    def __init__(self, provider: str, request: ChatRequest) -> None:
        self.provider = provider
        self.request = request
        self.reported: Usage | None = None
        self.done = False

    @abstractmethod
    def feed(self, line: str) -> list[dict[str, Any]]: ...

    def end(self) -> list[dict[str, Any]]:
        return []


class SseDecoder(StreamDecoder):
    """A decoder for server-sent-event bodies: subclasses implement ``on_event``."""

    def __init__(self, provider: str, request: ChatRequest) -> None:
        super().__init__(provider, request)
        self._parser = SseParser()

    def feed(self, line: str) -> list[dict[str, Any]]:
        event = self._parser.feed(line)
        return self.on_event(event) if event is not None else []

    def end(self) -> list[dict[str, Any]]:
        event = self._parser.flush()
        chunks = self.on_event(event) if event is not None and not self.done else []
        return chunks + self.on_end()

    @abstractmethod
    def on_event(self, event: SseEvent) -> list[dict[str, Any]]: ...

    def on_end(self) -> list[dict[str, Any]]:
        return []


class MeteredStream:
    """An open upstream stream: an async iterator of OpenAI chunk dicts with ``usage`` so far.

    ``usage`` is the provider's report once seen; if the stream is cut short before the final
    counts, output is estimated from the text produced (never below what was reported) and input
    from the provider's count, else the prompt estimate. ``aclose`` releases the connection.
    """

    def __init__(self, provider: str, response: UpstreamResponse, decoder: StreamDecoder) -> None:
        self.provider = provider
        self._response = response
        self._decoder = decoder
        self._request = decoder.request
        self._produced: list[str] = []
        self._finished = False
        self._prompt_estimate: int | None = None
        # The call's deadline, captured while the stream opens (the relay iterates outside it).
        self._deadline = deadlines.current()

    @property
    def usage(self) -> Usage:
        reported = self._decoder.reported
        if reported is not None and self._finished:  # the provider's final counts: nothing to estimate
            return reported
        estimated_output = text_tokens("".join(self._produced))
        if reported is None:
            if self._prompt_estimate is None:
                self._prompt_estimate = prompt_tokens(self.provider, self._request.model, self._request.body).tokens
            return Usage(input_tokens=self._prompt_estimate, output_tokens=estimated_output, estimated=True)
        if reported.output_tokens >= estimated_output:
            return reported
        return replace(reported, output_tokens=estimated_output, estimated=True)

    async def aclose(self) -> None:
        await self._response.aclose()

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        decoder = self._decoder
        try:
            async for line in aiter_lines(self.provider, self._response, self._deadline):
                for chunk in decoder.feed(line):
                    self._note(chunk)
                    yield chunk
                if decoder.done:
                    break
            if not decoder.done:
                for chunk in decoder.end():
                    self._note(chunk)
                    yield chunk
            self._finished = True
        finally:
            await self._response.aclose()

    def _note(self, chunk: dict[str, Any]) -> None:
        """Collect what a chunk produced, for the estimate of a cut stream."""
        note_produced(chunk, self._produced)


def note_produced(chunk: dict[str, Any], produced: list[str]) -> None:
    """Collect the generated text of a chunk (content, reasoning, tool arguments) for metering."""
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") or {}
        for key in ("content", "reasoning_content"):
            text = delta.get(key)
            if isinstance(text, str) and text:
                produced.append(text)
        for call in delta.get("tool_calls") or ():
            arguments = (call.get("function") or {}).get("arguments")
            if isinstance(arguments, str) and arguments:
                produced.append(arguments)
