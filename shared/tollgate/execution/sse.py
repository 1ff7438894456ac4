"""Server-sent-event framing of the execute relay (the chat-completions framing; other APIs bring
their own ``StreamFraming`` through their operation), and the once-only recorder of a stream's end."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

from tollgate.errors import InternalError, TollgateError
from tollgate.providers.base import Usage
from tollgate.providers.http import dumps

DONE = b"data: [DONE]\n\n"


class StreamRecorder:
    """Writes a streamed call's usage row exactly once, whichever way the stream ends."""

    def __init__(self, record: Callable[[str, str | None], Awaitable[None]]) -> None:
        self._record = record
        self._done = False

    async def finish(self, status: str, error_type: str | None) -> None:
        if not self._done:
            self._done = True
            await self._record(status, error_type)


class OpenAIFraming:
    """Chat-completions framing: each chunk as a ``data:`` event under the public ``provider/model``
    id; after the last one the usage chunk (only when the client asked ``stream_options.include_usage``,
    as OpenAI does) and ``[DONE]``; a failure mid-stream is a ``data:`` event with the gateway's error body."""

    def __init__(self, public_model: str, request_id: str, *, include_usage: bool = True) -> None:
        self._model = public_model
        self._request_id = request_id
        self._include_usage = include_usage
        self._last: dict[str, Any] = {}

    def chunk(self, chunk: dict[str, Any]) -> list[bytes]:
        chunk["model"] = self._model
        self._last = chunk
        return [sse(chunk)]

    def finish(self, usage: Usage) -> list[bytes]:
        if not self._include_usage:
            return [DONE]
        final = {
            "id": self._last.get("id", self._request_id),
            "object": "chat.completion.chunk",
            "created": self._last.get("created", int(time.time())),
            "model": self._model,
            "choices": [],
            "usage": usage.to_openai(),
        }
        return [sse(final), DONE]

    def error(self, error: TollgateError, request_id: str) -> list[bytes]:
        return [sse_error(request_id, error)]


def as_tollgate(error: Exception) -> TollgateError:
    return error if isinstance(error, TollgateError) else InternalError("The stream failed")


class RecordedRelay:
    """A stream relay whose ``aclose`` records the usage even when the relay never started (a
    response that failed before its first chunk): an unstarted async generator runs no ``finally``."""

    def __init__(self, relay: AsyncGenerator[bytes, None], recorder: StreamRecorder) -> None:
        self._relay = relay
        self._recorder = recorder

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        return await self._relay.__anext__()

    async def aclose(self) -> None:
        try:
            await self._relay.aclose()
        finally:
            await self._recorder.finish("cancelled", "client_disconnected")


def sse_error(request_id: str, error: Exception) -> bytes:
    return sse(as_tollgate(error).body(request_id))


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + dumps(payload) + b"\n\n"
