"""The sans-IO stream decoders: provider stream lines in, OpenAI chunks and usage out (no sockets)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tollgate.providers.anthropic import AnthropicDecoder
from tollgate.providers.base import ChatRequest, Usage
from tollgate.providers.errors import FailureKind, ProviderCallError
from tollgate.providers.gemini import GeminiDecoder
from tollgate.providers.http import iter_sse
from tollgate.providers.openai_compat import OpenAIDecoder, openai_usage
from tollgate.providers.streams import StreamDecoder
from tollgate.providers.yandex import YandexDecoder

REQUEST = ChatRequest("m", {"messages": [{"role": "user", "content": "hi"}]}, stream=True)


def _sse_lines(*payloads: Any) -> list[str]:
    lines: list[str] = []
    for payload in payloads:
        lines += [f"data: {payload if isinstance(payload, str) else json.dumps(payload)}", ""]
    return lines


def _run(decoder: StreamDecoder, lines: list[str]) -> list[dict[str, Any]]:
    chunks: list[dict[str, Any]] = []
    for line in lines:
        chunks += decoder.feed(line)
        if decoder.done:
            return chunks
    return chunks + decoder.end()


def _contents(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def test_openai_decoder_strips_the_usage_chunk_and_stops_at_done() -> None:
    chunk = {"id": "c", "choices": [{"index": 0, "delta": {"content": "Hi"}, "finish_reason": None}]}
    usage = {"id": "c", "choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2}}
    decoder = OpenAIDecoder("openai", REQUEST, openai_usage)
    chunks = _run(decoder, [": keep-alive", "", *_sse_lines(chunk, usage, "[DONE]", chunk)])
    assert _contents(chunks) == "Hi" and decoder.done
    assert decoder.reported == Usage(input_tokens=7, output_tokens=2)


def test_openai_decoder_raises_an_in_band_error() -> None:
    decoder = OpenAIDecoder("openai", REQUEST, openai_usage)
    with pytest.raises(ProviderCallError) as raised:
        _run(decoder, _sse_lines({"error": {"code": 429, "message": "slow down"}}))
    assert raised.value.kind is FailureKind.RATE_LIMIT


def test_anthropic_decoder_translates_events_and_accumulates_usage() -> None:
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 11, "output_tokens": 1}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
        {"type": "ping"},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "lo"}},
        {"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {"output_tokens": 5}},
        {"type": "message_stop"},
    ]
    decoder = AnthropicDecoder("anthropic", REQUEST)
    lines: list[str] = []
    for event in events:
        lines += [f"event: {event['type']}", f"data: {json.dumps(event)}", ""]
    chunks = _run(decoder, lines)
    assert _contents(chunks) == "Hello" and chunks[0]["id"] == "msg_1"
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert decoder.reported == Usage(input_tokens=11, output_tokens=5)


def test_gemini_decoder_sends_the_finish_chunk_at_the_end_of_the_body() -> None:
    parts = [
        {"responseId": "r", "candidates": [{"content": {"parts": [{"text": "A"}]}}]},
        {
            "candidates": [{"content": {"parts": [{"text": "B"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 2},
        },
    ]
    decoder = GeminiDecoder("gemini", REQUEST)
    chunks = _run(decoder, _sse_lines(*parts)[:-1])  # the body ends without a final blank line
    assert _contents(chunks) == "AB"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["id"] == "r"
    assert decoder.reported is not None and decoder.reported.output_tokens == 2


def test_yandex_decoder_turns_cumulative_text_into_deltas() -> None:
    def line(text: str, status: str, usage: dict[str, str] | None = None) -> str:
        result: dict[str, Any] = {"alternatives": [{"message": {"role": "assistant", "text": text}, "status": status}]}
        if usage:
            result["usage"] = usage
        return json.dumps({"result": result})

    decoder = YandexDecoder("yandex", REQUEST)
    usage = {"inputTextTokens": "3", "completionTokens": "2"}
    lines = [line("Hel", "ALTERNATIVE_STATUS_PARTIAL"), "", line("Hello", "ALTERNATIVE_STATUS_FINAL", usage)]
    chunks = _run(decoder, lines)
    assert _contents(chunks) == "Hello"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert decoder.reported == Usage(input_tokens=3, output_tokens=2)


def test_sse_events_of_a_whole_body() -> None:
    events = list(iter_sse(["event: a", "data: 1", "data: 2", "", ": comment", "data: 3"]))
    assert [(e.event, e.data) for e in events] == [("a", "1\n2"), (None, "3")]
