"""Anthropic Messages API adapter (``anthropic-version: 2023-06-01``, key in ``x-api-key``).

The version is pinned because 2026-10-21 rejects ``temperature``/``top_p``, which OpenAI clients send.
The request translation lives in ``anthropic_request.py``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any

from tollgate.anthropic_api.native import NativeHeaders, NativeStreamMeter, count_body, native_body
from tollgate.anthropic_api.native import usage_of as anthropic_usage
from tollgate.providers.anthropic_request import DEFAULT_MAX_TOKENS, to_anthropic
from tollgate.providers.base import ChatRequest, ChatResponse, ProviderTarget
from tollgate.providers.errors import FailureKind, ProviderCallError, kind_for_status, upstream_error
from tollgate.providers.http import (
    JsonReply,
    SseEvent,
    UpstreamHttp,
    UpstreamRequest,
    error_object,
    parse_json_event,
)
from tollgate.providers.http import retry_after_seconds as _retry_after
from tollgate.providers.http_adapter import HttpProvider
from tollgate.providers.registry import ProviderSpec
from tollgate.providers.streams import MeteredStream, SseDecoder, make_chunk, make_completion
from tollgate.providers.upstream_response import UpstreamResponse
from tollgate.providers.usage_check import checked_report, checked_usage

__all__ = ["DEFAULT_MAX_TOKENS", "AnthropicProvider", "classify", "from_anthropic", "to_anthropic"]

API_VERSION = "2023-06-01"

ERROR_KINDS = {
    "invalid_request_error": FailureKind.BAD_REQUEST,
    "authentication_error": FailureKind.AUTH,
    "permission_error": FailureKind.AUTH,
    "billing_error": FailureKind.QUOTA,
    "not_found_error": FailureKind.NOT_FOUND,
    "conflict_error": FailureKind.CONFLICT,
    "request_too_large": FailureKind.BAD_REQUEST,
    "rate_limit_error": FailureKind.RATE_LIMIT,
    "api_error": FailureKind.SERVER,
    "timeout_error": FailureKind.TIMEOUT,
    "overloaded_error": FailureKind.OVERLOADED,
}
REQUEST_FIELDS = frozenset(
    {"model", "messages", "system", "max_tokens", "temperature", "top_p", "top_k", "stop_sequences", "tools"}
    | {"tool_choice", "metadata", "thinking", "stream"}
)
_FIELD_PATH = re.compile(r"([a-z_]+(?:\.[A-Za-z0-9_]+){0,8}):")
# Refinements of a type by its message class, where Anthropic gives no more structured signal:
# (error.type, lower-cased message fragment) → kind. Credit exhaustion is a 400
# invalid_request_error "Your credit balance is too low to access the Anthropic API...".
MESSAGE_KINDS = (("invalid_request_error", "credit balance is too low", FailureKind.QUOTA),)
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def classify(status: int, body: Any, headers: Mapping[str, str]) -> ProviderCallError:
    error = error_object(body)
    kind = ERROR_KINDS.get(str(error.get("type")), kind_for_status(status))
    message = str(error.get("message", "")).lower()
    for error_type, fragment, refined in MESSAGE_KINDS:
        if error.get("type") == error_type and fragment in message:
            kind = refined
    details = error.get("details")
    spend_cap = isinstance(details, dict) and details.get("error_code") == "enforced_spend_limit_reached"
    if kind is FailureKind.RATE_LIMIT and spend_cap:
        kind = FailureKind.QUOTA  # the monthly spend cap: no retry-after, blocked until the 1st
    return upstream_error(
        "anthropic",
        kind,
        status=status or None,
        retry_after_s=_retry_after(headers),
        error_type=error.get("type"),
        param=_named_field(error.get("message")),
    )


def _named_field(message: Any) -> str | None:
    """The request field an Anthropic message starts with ("messages.1.content.0.text: ..."): a path
    of identifiers under a known top-level field, never the rest of the (free text) message."""
    match = _FIELD_PATH.match(message) if isinstance(message, str) else None
    return match.group(1) if match and match.group(1).split(".")[0] in REQUEST_FIELDS else None


ANTHROPIC_REQUIRED = ("input_tokens", "output_tokens")


def from_anthropic(payload: dict[str, Any], model: str, request: ChatRequest | None = None) -> ChatResponse:
    text: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    for block in payload.get("content") or ():
        if block.get("type") == "text":
            text.append(str(block.get("text", "")))
        elif block.get("type") == "tool_use":
            arguments = json.dumps(block.get("input") or {}, separators=(",", ":"))
            tool_calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": arguments},
                }
            )
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text) if text or not tool_calls else None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    if request is None:
        usage = anthropic_usage(payload.get("usage") or {})
    else:
        answer = (message.get("content") or "") + "".join(c["function"]["arguments"] for c in tool_calls)
        usage = checked_usage(
            "anthropic", payload.get("usage"), request, answer, anthropic_usage, required=ANTHROPIC_REQUIRED
        )
    finish = STOP_REASONS.get(str(payload.get("stop_reason")), "stop")
    body = make_completion(str(payload.get("id", "msg")), model, message, finish, usage)
    return ChatResponse(body=body, usage=usage)


class AnthropicProvider(HttpProvider):
    def _headers(self, target: ProviderTarget) -> dict[str, str]:
        headers = {"x-api-key": target.api_key, "anthropic-version": API_VERSION}
        beta = target.options.get("beta")
        if isinstance(beta, str) and beta:
            headers["anthropic-beta"] = beta
        return headers

    def _post(self, target: ProviderTarget, request: ChatRequest, stream: bool) -> UpstreamRequest:
        url, body = self.url(target, "/v1/messages"), to_anthropic(request, stream)
        return UpstreamRequest(self.name, "POST", url, self._headers(target), body, classify)

    def complete_request(self, target: ProviderTarget, request: ChatRequest) -> UpstreamRequest:
        return self._post(target, request, False)

    def parse_completion(self, reply: JsonReply, request: ChatRequest) -> ChatResponse:
        if not isinstance(reply.body, dict) or reply.body.get("type") == "error":
            raise classify(reply.status, reply.body, reply.headers)
        return from_anthropic(reply.body, request.model, request)

    def stream_request(self, target: ProviderTarget, request: ChatRequest) -> UpstreamRequest:
        return self._post(target, request, True)

    def decoder(self, request: ChatRequest) -> AnthropicDecoder:
        return AnthropicDecoder(self.name, request)

    def verify_request(self, target: ProviderTarget) -> UpstreamRequest:
        url = self.url(target, "/v1/models?limit=1")
        return UpstreamRequest(self.name, "GET", url, self._headers(target), None, classify)

    # -- native Messages API (pass-through: the body and the answer are Anthropic's own) ----------
    # Sans-IO like the rest: ``native_*_request`` build the request, ``parse_native`` /
    # ``parse_count`` read the reply, ``NativeAnthropicDecoder`` the stream; the coroutines below
    # send them through the shared async transport.

    def _native_headers(self, target: ProviderTarget, headers: NativeHeaders) -> dict[str, str]:
        beta = target.options.get("beta")
        return {"x-api-key": target.api_key, **headers.upstream(beta if isinstance(beta, str) else None)}

    def native_request(
        self, target: ProviderTarget, model: str, body: Mapping[str, Any], headers: NativeHeaders, *, stream: bool
    ) -> UpstreamRequest:
        """``POST /v1/messages`` as the client wrote it (only ``model`` replaced)."""
        url, payload = self.url(target, "/v1/messages"), native_body(body, model, stream=stream)
        return UpstreamRequest(self.name, "POST", url, self._native_headers(target, headers), payload, classify)

    @staticmethod
    def parse_native(reply: JsonReply) -> ChatResponse:
        """The ``message`` verbatim, with its normalized usage."""
        if not isinstance(reply.body, dict) or reply.body.get("type") != "message":
            raise classify(reply.status, reply.body, reply.headers)
        return ChatResponse(body=reply.body, usage=anthropic_usage(reply.body.get("usage") or {}))

    def count_request(
        self, target: ProviderTarget, model: str, body: Mapping[str, Any], headers: NativeHeaders
    ) -> UpstreamRequest:
        url = self.url(target, "/v1/messages/count_tokens")
        return UpstreamRequest(
            self.name, "POST", url, self._native_headers(target, headers), count_body(body, model), classify
        )

    def parse_count(self, reply: JsonReply) -> int:
        """``input_tokens`` of a count_tokens answer. Raises ``ProviderCallError`` (protocol) when it has none."""
        count = reply.body.get("input_tokens") if isinstance(reply.body, dict) else None
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise upstream_error(self.name, FailureKind.PROTOCOL, status=reply.status)
        return count

    async def native_complete(
        self, target: ProviderTarget, model: str, body: Mapping[str, Any], headers: NativeHeaders
    ) -> ChatResponse:
        reply = await self._http.send_json(self.native_request(target, model, body, headers, stream=False))
        return self.parse_native(reply)

    async def native_stream(
        self, target: ProviderTarget, model: str, body: Mapping[str, Any], headers: NativeHeaders, request: ChatRequest
    ) -> MeteredStream:
        """The event stream as Anthropic sends it; ``request`` (internal body) only feeds the estimate
        used when the stream is cut before Anthropic reported its counts."""
        decoder = NativeAnthropicDecoder(self.name, request)
        response = await self._http.open_stream(self.native_request(target, model, body, headers, stream=True))
        return NativeAnthropicStream(self.name, response, decoder)

    async def count_tokens(
        self, target: ProviderTarget, model: str, body: Mapping[str, Any], headers: NativeHeaders
    ) -> int:
        """``POST /v1/messages/count_tokens``: Anthropic's own count of the prompt (free, not metered)."""
        return self.parse_count(await self._http.send_json(self.count_request(target, model, body, headers)))


class AnthropicDecoder(SseDecoder):
    """Anthropic Messages events → OpenAI chunks; usage from ``message_start`` and ``message_delta``."""

    def __init__(self, provider: str, request: ChatRequest) -> None:
        super().__init__(provider, request)
        self._id, self._created = "msg", int(time.time())
        self._tool_index: dict[int, int] = {}
        self._with_arguments: set[int] = set()

    def on_event(self, event: SseEvent) -> list[dict[str, Any]]:
        data = parse_json_event(self.provider, event.data)
        if not isinstance(data, dict):
            return []
        kind = data.get("type")
        if kind == "message_stop":
            self.done = True
            return []
        if kind == "error":
            raise classify(0, data, {})
        delta = self._translate(kind, data)
        if delta is None:
            return []
        return [make_chunk(self._id, self.request.model, self._created, *delta)]

    def _translate(self, kind: Any, data: dict[str, Any]) -> tuple[dict[str, Any], str | None] | None:
        """One Anthropic event → (OpenAI delta, finish_reason), or None when nothing is emitted."""
        if kind == "message_start":
            message = data.get("message") or {}
            self._id = str(message.get("id", self._id))
            self.reported = checked_report(self.provider, message.get("usage") or {}, self.request, anthropic_usage)
            return {"role": "assistant", "content": ""}, None
        if kind == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") != "tool_use":
                return None
            position = self._tool_index.setdefault(int(data.get("index", 0)), len(self._tool_index))
            call = {"index": position, "id": block.get("id"), "type": "function"}
            call["function"] = {"name": block.get("name"), "arguments": ""}
            return {"tool_calls": [call]}, None
        if kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta":
                return {"content": str(delta.get("text", ""))}, None
            if delta.get("type") == "input_json_delta" and delta.get("partial_json"):
                position = self._tool_index.setdefault(int(data.get("index", 0)), len(self._tool_index))
                self._with_arguments.add(position)
                call = {"index": position, "function": {"arguments": str(delta["partial_json"])}}
                return {"tool_calls": [call]}, None
            return None
        if kind == "content_block_stop":
            stopped = self._tool_index.get(int(data.get("index", 0)))
            if stopped is None or stopped in self._with_arguments:
                return None
            # A tool called without arguments streams no input_json_delta; the non-streamed answer
            # holds "{}", so the rebuilt call must too (arguments always parse as JSON).
            return {"tool_calls": [{"index": stopped, "function": {"arguments": "{}"}}]}, None
        if kind == "message_delta":
            previous = self.reported
            update = checked_report(
                self.provider, data.get("usage") or {}, self.request, lambda raw: anthropic_usage(raw, previous)
            )
            self.reported = update or self.reported
            reason = (data.get("delta") or {}).get("stop_reason")
            return ({}, STOP_REASONS.get(str(reason), "stop")) if reason else None
        return None  # ping and event types added later


class NativeAnthropicDecoder(SseDecoder):
    """Anthropic's events as dicts, unchanged (``message_stop`` included: the framing holds it back
    until the call is recorded), metered from ``message_start``/``message_delta``."""

    def __init__(self, provider: str, request: ChatRequest) -> None:
        super().__init__(provider, request)
        self.meter = NativeStreamMeter()

    def on_event(self, event: SseEvent) -> list[dict[str, Any]]:
        data = parse_json_event(self.provider, event.data)
        if not isinstance(data, dict):
            return []
        if data.get("type") == "error":
            raise classify(0, data, {})
        self.meter.note(data)
        self.reported = self.meter.reported
        if self.meter.finished:
            self.done = True
        return [data]


class NativeAnthropicStream(MeteredStream):
    """A ``MeteredStream`` of Anthropic events: the text produced is collected by the decoder's meter
    (the events are not OpenAI chunks)."""

    def __init__(self, provider: str, response: UpstreamResponse, decoder: NativeAnthropicDecoder) -> None:
        super().__init__(provider, response, decoder)
        self._produced = decoder.meter.produced

    def _note(self, chunk: dict[str, Any]) -> None:
        pass


def adapter(http: UpstreamHttp, spec: ProviderSpec) -> AnthropicProvider:
    """The registry's adapter factory (``tollgate.providers.registry``)."""
    return AnthropicProvider(http, spec)
