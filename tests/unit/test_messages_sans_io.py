"""The Messages pass-through and embeddings as sans-IO requests and parsers (no sockets)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tollgate.anthropic_api.native import NativeHeaders
from tollgate.providers.adapters import build_adapters
from tollgate.providers.anthropic import AnthropicProvider, NativeAnthropicDecoder
from tollgate.providers.base import ChatRequest, ProviderTarget
from tollgate.providers.embeddings import EmbeddingRequest
from tollgate.providers.errors import FailureKind, ProviderCallError
from tollgate.providers.gemini import GeminiProvider
from tollgate.providers.http import JsonReply, UpstreamHttp
from tollgate.providers.openai_compat import OpenAICompatibleProvider, openai_usage

HTTP = UpstreamHttp(1.0, 1.0, 4, allow_local_network=True)
ADAPTERS = build_adapters(HTTP)
ANTHROPIC = ADAPTERS["anthropic"]
TARGET = ProviderTarget("anthropic", "https://anthropic.test", "sk-ant", {"beta": "extra-flag"})
BODY = {"model": "claude", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}], "stream": True}


def _reply(body: Any, status: int = 200) -> JsonReply:
    return JsonReply(status, httpx.Headers(), body)


def test_native_request_is_the_clients_body_with_the_resolved_model_and_merged_beta_flags() -> None:
    assert isinstance(ANTHROPIC, AnthropicProvider)
    headers = NativeHeaders(version="2023-06-01", beta="claude-code-20250219")
    request = ANTHROPIC.native_request(TARGET, "claude-sonnet-4-5", BODY, headers, stream=False)
    assert request.method == "POST" and request.url == "https://anthropic.test/v1/messages"
    assert request.payload == {**{k: v for k, v in BODY.items() if k != "stream"}, "model": "claude-sonnet-4-5"}
    assert request.headers["x-api-key"] == "sk-ant"
    assert request.headers["anthropic-beta"] == "claude-code-20250219,extra-flag"
    streamed = ANTHROPIC.native_request(TARGET, "claude-sonnet-4-5", BODY, headers, stream=True)
    assert streamed.payload["stream"] is True


def test_parse_native_keeps_the_message_verbatim_and_reads_every_usage_class() -> None:
    assert isinstance(ANTHROPIC, AnthropicProvider)
    message = {
        "type": "message",
        "content": [{"type": "text", "text": "hi"}],
        "usage": {
            "input_tokens": 3,
            "cache_read_input_tokens": 5,
            "cache_creation_input_tokens": 7,
            "output_tokens": 2,
        },
    }
    response = ANTHROPIC.parse_native(_reply(message))
    assert response.body is message
    assert (response.usage.input_tokens, response.usage.cache_read_tokens, response.usage.cache_write_tokens) == (
        3,
        5,
        7,
    )
    with pytest.raises(ProviderCallError):
        ANTHROPIC.parse_native(_reply({"type": "error", "error": {"type": "overloaded_error"}}))


def test_count_tokens_request_and_reply() -> None:
    assert isinstance(ANTHROPIC, AnthropicProvider)
    request = ANTHROPIC.count_request(TARGET, "claude-x", BODY, NativeHeaders())
    assert request.url.endswith("/v1/messages/count_tokens")
    assert "max_tokens" not in request.payload and request.payload["model"] == "claude-x"
    assert ANTHROPIC.parse_count(_reply({"input_tokens": 12})) == 12
    with pytest.raises(ProviderCallError) as caught:
        ANTHROPIC.parse_count(_reply({"input_tokens": True}))
    assert caught.value.kind is FailureKind.PROTOCOL


def test_native_decoder_passes_events_unchanged_meters_them_and_stops_after_message_stop() -> None:
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 4, "output_tokens": 1}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hello"}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 6}},
        {"type": "message_stop"},
    ]
    decoder = NativeAnthropicDecoder("anthropic", ChatRequest("claude", {"messages": []}, stream=True))
    out: list[dict[str, Any]] = []
    for event in events:
        out += decoder.feed(f"event: {event['type']}")
        out += decoder.feed(f"data: {json.dumps(event)}")
        out += decoder.feed("")
    assert out == events and decoder.done
    assert decoder.reported is not None and (decoder.reported.input_tokens, decoder.reported.output_tokens) == (4, 6)
    assert decoder.meter.produced == ["hello"]


def test_native_decoder_raises_an_in_band_error() -> None:
    decoder = NativeAnthropicDecoder("anthropic", ChatRequest("claude", {"messages": []}, stream=True))
    decoder.feed('data: {"type":"error","error":{"type":"overloaded_error","message":"busy"}}')
    with pytest.raises(ProviderCallError) as caught:
        decoder.feed("")
    assert caught.value.kind is FailureKind.OVERLOADED


def test_embeddings_requests_and_parsers() -> None:
    openai = ADAPTERS["openai"]
    gemini = ADAPTERS["gemini"]
    assert isinstance(openai, OpenAICompatibleProvider) and isinstance(gemini, GeminiProvider)
    request = EmbeddingRequest("text-embedding-3-small", ["a", "b"], dimensions=2)
    target = ProviderTarget("openai", "https://openai.test/v1", "sk")
    upstream = openai.embed_request(target, request)
    assert upstream.url == "https://openai.test/v1/embeddings" and upstream.payload["dimensions"] == 2
    answer = {"data": [{"embedding": [0.1]}, {"embedding": [0.2]}], "usage": {"prompt_tokens": 3, "total_tokens": 3}}
    parsed = openai.parse_embeddings(_reply(answer), request)
    assert parsed.usage == openai_usage({"prompt_tokens": 3})
    with pytest.raises(ProviderCallError):
        openai.parse_embeddings(_reply({"data": []}), request)

    g_target = ProviderTarget("gemini", "https://gemini.test", "g")
    g_upstream = gemini.embed_request(g_target, request)
    assert g_upstream.url.endswith("text-embedding-3-small:batchEmbedContents")
    assert len(g_upstream.payload["requests"]) == 2
    vectors = {"embeddings": [{"values": [1.0, 2.0]}, {"values": [3.0, 4.0]}]}
    g_parsed = gemini.parse_embeddings(_reply(vectors), request)
    assert [d["embedding"] for d in g_parsed.body["data"]] == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(ProviderCallError):
        gemini.embed_request(g_target, EmbeddingRequest("m", [[1, 2]]))
