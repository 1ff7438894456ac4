"""Anthropic's server-sent events, produced from OpenAI ``chat.completion.chunk`` dicts. Pure: no I/O.

``AnthropicStreamEncoder`` is stateful and never iterates: the caller feeds it each chunk (from a
sync or an async iterator) and writes the bytes it returns. The event sequence is Anthropic's:
``message_start``, ``ping``, then per content block ``content_block_start`` / ``content_block_delta``
(``text_delta``, ``input_json_delta``) / ``content_block_stop``, then ``message_delta`` (stop reason
and cumulative ``usage``, including the input and cache counts, which an OpenAI-shaped upstream only
reports at the end) and ``message_stop``. A failure after the first byte is an ``error`` event.
"""

from __future__ import annotations

import json
from typing import Any

from tollgate.anthropic_api.translate import STOP_REASONS, anthropic_message_id, anthropic_usage_object
from tollgate.providers.base import Usage


def sse_event(event: dict[str, Any]) -> bytes:
    """One Anthropic SSE event: ``event: <type>`` and ``data: <json>``."""
    data = json.dumps(event, separators=(",", ":"))
    return f"event: {event.get('type', 'message')}\ndata: {data}\n\n".encode()


def error_event(error_type: str, message: str, request_id: str | None = None) -> bytes:
    payload: dict[str, Any] = {"type": "error", "error": {"type": error_type, "message": message}}
    if request_id:
        payload["request_id"] = request_id
    return sse_event(payload)


def text_delta_event(index: int, text: str) -> bytes:
    """``sse_event`` of a ``text_delta``, byte for byte, without building and dumping the dict (hot path)."""
    head = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,' % index
    return head + b'"delta":{"type":"text_delta","text":' + json.dumps(text).encode() + b"}}\n\n"


class AnthropicStreamEncoder:
    """OpenAI chunks in, Anthropic SSE bytes out. ``input_tokens_hint`` fills ``message_start``
    (the final counts arrive in ``message_delta``)."""

    def __init__(self, model: str, *, message_id: str | None = None, input_tokens_hint: int = 0) -> None:
        self._model = model
        self._id = message_id
        self._input_hint = input_tokens_hint
        self._started = False
        self._finished = False
        self._index = -1  # index of the open block, -1 when none
        self._open: str | None = None  # "text" | "tool_use"
        self._tool_blocks: dict[int, int] = {}  # OpenAI tool call index -> block index
        self._stop_reason = "end_turn"

    def feed(self, chunk: dict[str, Any]) -> list[bytes]:
        out = self._start(chunk)
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if isinstance(text, str) and text:
                if self._open != "text":
                    out += self._open_block({"type": "text", "text": ""}, "text")
                out.append(text_delta_event(self._index, text))
            for call in delta.get("tool_calls") or ():
                out += self._tool_delta(call)
            reason = choice.get("finish_reason")
            if reason:
                self._stop_reason = STOP_REASONS.get(str(reason), "end_turn")
        return out

    def finish(self, usage: Usage) -> list[bytes]:
        """Close the open block and end the message with the final usage."""
        if self._finished:
            return []
        self._finished = True
        out = self._start({})
        out += self._close_block()
        delta_usage = anthropic_usage_object(usage)
        delta_usage.pop("cache_creation")
        out.append(
            sse_event(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": self._stop_reason, "stop_sequence": None},
                    "usage": delta_usage,
                }
            )
        )
        out.append(sse_event({"type": "message_stop"}))
        return out

    def error(self, error_type: str, message: str, request_id: str | None = None) -> list[bytes]:
        self._finished = True
        return [error_event(error_type, message, request_id)]

    # -- internals ---------------------------------------------------------------------------

    def _start(self, chunk: dict[str, Any]) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        message_id = self._id or anthropic_message_id(str(chunk.get("id") or ""))
        usage = {"input_tokens": self._input_hint, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
        message: dict[str, Any] = {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {**usage, "output_tokens": 1},
        }
        return [sse_event({"type": "message_start", "message": message}), sse_event({"type": "ping"})]

    def _open_block(self, block: dict[str, Any], kind: str) -> list[bytes]:
        out = self._close_block()
        self._index += 1
        self._open = kind
        out.append(sse_event({"type": "content_block_start", "index": self._index, "content_block": block}))
        return out

    def _close_block(self) -> list[bytes]:
        if self._open is None:
            return []
        self._open = None
        return [sse_event({"type": "content_block_stop", "index": self._index})]

    def _delta(self, delta: dict[str, Any], index: int | None = None) -> bytes:
        position = self._index if index is None else index
        return sse_event({"type": "content_block_delta", "index": position, "delta": delta})

    def _tool_delta(self, call: dict[str, Any]) -> list[bytes]:
        out: list[bytes] = []
        position = int(call.get("index", 0))
        function = call.get("function") or {}
        if position not in self._tool_blocks:
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{position}",
                "name": function.get("name"),
                "input": {},
            }
            out += self._open_block(block, "tool_use")
            self._tool_blocks[position] = self._index
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments and self._tool_blocks[position] == self._index:
            out.append(self._delta({"type": "input_json_delta", "partial_json": arguments}))
        return out
