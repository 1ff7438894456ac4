"""The chat-completions stream framing: OpenAI ``data:`` events, a final usage chunk, ``[DONE]``."""

from __future__ import annotations

import json
import time
from typing import Any

from tollgate.errors import InternalError, TollgateError
from tollgate.providers.base import Usage


class OpenAIFraming:
    """Each chunk under the public ``provider/model`` id; after the last one the usage chunk and
    ``[DONE]``; a failure mid-stream is a ``data:`` event with the gateway's error body."""

    def __init__(self, public_model: str, request_id: str) -> None:
        self._model = public_model
        self._request_id = request_id
        self._last: dict[str, Any] = {}

    def chunk(self, chunk: dict[str, Any]) -> list[bytes]:
        chunk["model"] = self._model
        self._last = chunk
        return [sse(chunk)]

    def finish(self, usage: Usage) -> list[bytes]:
        final = {
            "id": self._last.get("id", self._request_id),
            "object": "chat.completion.chunk",
            "created": self._last.get("created", int(time.time())),
            "model": self._model,
            "choices": [],
            "usage": usage.to_openai(),
        }
        return [sse(final), b"data: [DONE]\n\n"]

    def error(self, error: TollgateError, request_id: str) -> list[bytes]:
        if not isinstance(error, TollgateError):
            error = InternalError("The stream failed")
        return [sse(error.body(request_id))]


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"
