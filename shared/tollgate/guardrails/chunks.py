"""Response guardrails on stream chunks: the text of each chunk goes through a ``StreamScanner`` and
the chunk is passed on with the text the scanner releases. Pure: no I/O.

Two chunk shapes reach the relay (before the client's framing is applied):

- OpenAI ``chat.completion.chunk`` dicts (chat completions, and ``/v1/messages`` translated to
  another provider): each choice's ``delta.content`` is a channel (message index = choice index).
  In redact mode a choice's held text is appended to the chunk carrying its first tool-call delta
  or its ``finish_reason``, whichever comes first (so text never arrives after the tool call it
  preceded; framings write a delta's text before its tool calls);
  a stream that ends without one gets one more chunk with the rest (``flush``).
- Anthropic events (``/v1/messages`` passed through natively): each text block's ``text_delta`` is
  a channel (message index 0: one message). A delta whose text is all held is dropped; the held
  text goes out as one more ``text_delta`` right before the block's ``content_block_stop``.

Tool-call arguments, ``input_json_delta``, thinking and reasoning deltas are not scanned (as on
non-streamed responses, only the answer's text is).
"""

from __future__ import annotations

import time
from typing import Any

from tollgate.guardrails.stream import StreamScanner


class ChunkScreen:
    def __init__(self, scanner: StreamScanner) -> None:
        self.scanner = scanner
        self._last: dict[str, Any] = {}  # the last OpenAI chunk (id, created, model of a flush chunk)

    def text_size(self, chunk: dict[str, Any]) -> int:
        """Characters of scannable text in ``chunk`` (the relay moves big ones off the event loop)."""
        if "choices" in chunk:
            return sum(len(_content(choice) or "") for choice in chunk.get("choices") or ())
        delta = chunk.get("delta")
        text = delta.get("text") if isinstance(delta, dict) else None
        return len(text) if isinstance(text, str) else 0

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        """The chunks to pass on in place of ``chunk`` (modified in place; none, one or two)."""
        if "choices" in chunk:
            self._last = chunk
            return [self._openai(chunk)]
        kind = chunk.get("type")
        if kind == "content_block_delta":
            return self._anthropic_delta(chunk)
        if kind == "content_block_stop" and self.scanner.redacting:
            rest = self.scanner.flush(("block", chunk.get("index")))
            return [*_text_deltas(chunk.get("index"), rest), chunk]
        if kind == "content_block_stop":
            self.scanner.flush(("block", chunk.get("index")))
        return [chunk]

    def flush(self) -> list[dict[str, Any]]:
        """At the end of the stream: the chunks carrying whatever is still held."""
        out: list[dict[str, Any]] = []
        for channel, text in self.scanner.flush_all().items():
            kind, index = channel if isinstance(channel, tuple) else ("", 0)
            if kind == "block":
                out += _text_deltas(index, text)
            else:
                out.append(
                    {
                        "id": self._last.get("id", ""),
                        "object": "chat.completion.chunk",
                        "created": self._last.get("created", int(time.time())),
                        "model": self._last.get("model", ""),
                        "choices": [{"index": index, "delta": {"content": text}, "finish_reason": None}],
                    }
                )
        return out

    def _openai(self, chunk: dict[str, Any]) -> dict[str, Any]:
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", 0)
            index = index if isinstance(index, int) else 0
            channel = ("choice", index)
            text = _content(choice)
            if text:
                choice["delta"]["content"] = self.scanner.feed(channel, index, text)
            if choice.get("finish_reason") or _calls_a_tool(choice):
                # the text ends here: released before the tool call (same delta, text goes first)
                rest = self.scanner.flush(channel)
                if rest:
                    delta = choice.get("delta")
                    if not isinstance(delta, dict):
                        delta = choice["delta"] = {}
                    delta["content"] = (delta.get("content") or "") + rest
        return chunk

    def _anthropic_delta(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        delta = chunk.get("delta")
        if not isinstance(delta, dict) or delta.get("type") != "text_delta" or not isinstance(delta.get("text"), str):
            return [chunk]
        index = chunk.get("index")
        released = self.scanner.feed(("block", index), 0, delta["text"])
        if not released and delta["text"]:  # all held back for now
            return []
        delta["text"] = released
        return [chunk]


def _calls_a_tool(choice: dict[str, Any]) -> bool:
    delta = choice.get("delta")
    return isinstance(delta, dict) and bool(delta.get("tool_calls") or delta.get("function_call"))


def _content(choice: Any) -> str | None:
    delta = choice.get("delta") if isinstance(choice, dict) else None
    text = delta.get("content") if isinstance(delta, dict) else None
    return text if isinstance(text, str) else None


def _text_deltas(index: Any, text: str) -> list[dict[str, Any]]:
    if not text:
        return []
    return [{"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}]
