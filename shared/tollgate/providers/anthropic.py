"""Anthropic Messages API adapter (``anthropic-version: 2023-06-01``, key in ``x-api-key``).

The version is pinned because 2026-10-21 rejects ``temperature``/``top_p``, which OpenAI clients send.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

from tollgate.anthropic_api.native import NativeHeaders, NativeStreamMeter, count_body, native_body
from tollgate.anthropic_api.native import usage_of as anthropic_usage
from tollgate.providers.base import ChatRequest, ChatResponse, ProviderTarget
from tollgate.providers.content import (
    function_tools,
    image_of,
    json_instruction,
    max_output_tokens,
    parts_of,
    stop_list,
    text_of,
    tool_arguments,
)
from tollgate.providers.errors import FailureKind, ProviderCallError, kind_for_status, upstream_error
from tollgate.providers.http import UpstreamHttp, error_object, iter_lines, iter_sse, parse_json_event
from tollgate.providers.http import retry_after_seconds as _retry_after
from tollgate.providers.streams import MeteredStream, make_chunk, make_completion

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096

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
    details = error.get("details")
    spend_cap = isinstance(details, dict) and details.get("error_code") == "enforced_spend_limit_reached"
    if kind is FailureKind.RATE_LIMIT and spend_cap:
        kind = FailureKind.QUOTA  # the monthly spend cap: no retry-after, blocked until the 1st
    return upstream_error("anthropic", kind, status=status or None, retry_after_s=_retry_after(headers))


def _user_blocks(content: Any) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in parts_of(content):
        if part.get("type") == "text":
            blocks.append(_text_block(part))
        elif part.get("type") == "image_url":
            image = image_of(part)
            source = (
                {"type": "base64", "media_type": image.media_type, "data": image.data}
                if image.data is not None
                else {"type": "url", "url": image.url}
            )
            blocks.append({"type": "image", "source": source})
    return blocks


def _text_block(part: dict[str, Any]) -> dict[str, Any]:
    """A text block; a ``cache_control`` breakpoint on the OpenAI part is re-emitted as is."""
    block: dict[str, Any] = {"type": "text", "text": str(part.get("text", ""))}
    if isinstance(part.get("cache_control"), dict):
        block["cache_control"] = part["cache_control"]
    return block


def _system_blocks(system: list[Any]) -> str | list[dict[str, Any]]:
    """One string, unless a system part carries a cache breakpoint: then the text blocks."""
    parts = [p for content in system for p in parts_of(content) if p.get("type") == "text"]
    if any(isinstance(p.get("cache_control"), dict) for p in parts):
        return [_text_block(p) for p in parts if p.get("text")]
    return "\n\n".join(s for s in (text_of(c) for c in system) if s)


def _append(messages: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    """Anthropic wants alternating roles: consecutive same-role messages are merged."""
    if not blocks:
        return
    if messages and messages[-1]["role"] == role:
        messages[-1]["content"].extend(blocks)
    else:
        messages.append({"role": role, "content": list(blocks)})


def _assistant_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    text = text_of(message.get("content"))
    if text:
        blocks.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or ():
        name = (call.get("function") or {}).get("name")
        blocks.append({"type": "tool_use", "id": call.get("id"), "name": name, "input": tool_arguments(call)})
    return blocks


def _conversation(request: ChatRequest) -> tuple[list[Any], list[dict[str, Any]]]:
    system: list[Any] = []
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(message.get("content"))
        elif role == "user":
            _append(messages, "user", _user_blocks(message.get("content")))
        elif role == "assistant":
            _append(messages, "assistant", _assistant_blocks(message))
        elif role in ("tool", "function"):
            result = {
                "type": "tool_result",
                "tool_use_id": message.get("tool_call_id"),
                "content": text_of(message.get("content")),
            }
            _append(messages, "user", [result])
    return system, messages


def to_anthropic(request: ChatRequest, stream: bool) -> dict[str, Any]:
    body = request.body
    system, messages = _conversation(request)
    instruction = json_instruction(body.get("response_format"))
    if instruction:
        system.append(instruction)
    out: dict[str, Any] = {
        "model": request.model,
        "max_tokens": max_output_tokens(body, DEFAULT_MAX_TOKENS),
        "messages": messages,
    }
    if system:
        out["system"] = _system_blocks(system)
    if isinstance(body.get("temperature"), int | float):
        out["temperature"] = min(1.0, float(body["temperature"]))  # Anthropic's range is [0, 1]
    if isinstance(body.get("top_p"), int | float):
        out["top_p"] = body["top_p"]
    stops = stop_list(body.get("stop"))
    if stops:
        out["stop_sequences"] = stops
    _add_tools(out, body)
    if stream:
        out["stream"] = True
    return out


def _add_tools(out: dict[str, Any], body: Any) -> None:
    tools = function_tools(body)
    if tools:
        out["tools"] = [
            {
                "name": f.get("name"),
                "description": f.get("description", ""),
                "input_schema": f.get("parameters") or {"type": "object"},
            }
            for f in tools
        ]
        choice = _tool_choice(body.get("tool_choice"))
        if choice:
            out["tool_choice"] = choice


def _tool_choice(choice: Any) -> dict[str, Any] | None:
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    if choice == "none":
        return {"type": "none"}
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return {"type": "tool", "name": choice["function"].get("name")}
    return None


def from_anthropic(payload: dict[str, Any], model: str) -> ChatResponse:
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
    usage = anthropic_usage(payload.get("usage") or {})
    finish = STOP_REASONS.get(str(payload.get("stop_reason")), "stop")
    body = make_completion(str(payload.get("id", "msg")), model, message, finish, usage)
    return ChatResponse(body=body, usage=usage)


class AnthropicProvider:
    name = "anthropic"

    def __init__(self, http: UpstreamHttp) -> None:
        self._http = http

    def _url(self, target: ProviderTarget, path: str) -> str:
        return (target.base_url or DEFAULT_BASE_URL).rstrip("/") + path

    def _headers(self, target: ProviderTarget) -> dict[str, str]:
        headers = {"x-api-key": target.api_key, "anthropic-version": API_VERSION}
        beta = target.options.get("beta")
        if isinstance(beta, str) and beta:
            headers["anthropic-beta"] = beta
        return headers

    def complete(self, target: ProviderTarget, request: ChatRequest) -> ChatResponse:
        reply = self._http.post_json(
            self.name, self._url(target, "/v1/messages"), self._headers(target), to_anthropic(request, False), classify
        )
        if not isinstance(reply.body, dict) or reply.body.get("type") == "error":
            raise classify(reply.status, reply.body, reply.headers)
        return from_anthropic(reply.body, request.model)

    def stream(self, target: ProviderTarget, request: ChatRequest) -> AnthropicStream:
        response = self._http.open_stream(
            self.name, self._url(target, "/v1/messages"), self._headers(target), to_anthropic(request, True), classify
        )
        return AnthropicStream(self.name, response, request)

    def verify(self, target: ProviderTarget) -> None:
        self._http.request_json(
            self.name, "GET", self._url(target, "/v1/models?limit=1"), self._headers(target), None, classify=classify
        )

    # -- native Messages API (pass-through: the body and the answer are Anthropic's own) ----------

    def _native_headers(self, target: ProviderTarget, headers: NativeHeaders) -> dict[str, str]:
        beta = target.options.get("beta")
        return {"x-api-key": target.api_key, **headers.upstream(beta if isinstance(beta, str) else None)}

    def native_complete(
        self, target: ProviderTarget, model: str, body: Mapping[str, Any], headers: NativeHeaders
    ) -> ChatResponse:
        """``POST /v1/messages`` as the client wrote it; the ``message`` comes back verbatim."""
        payload = native_body(body, model, stream=False)
        reply = self._http.post_json(
            self.name, self._url(target, "/v1/messages"), self._native_headers(target, headers), payload, classify
        )
        if not isinstance(reply.body, dict) or reply.body.get("type") != "message":
            raise classify(reply.status, reply.body, reply.headers)
        return ChatResponse(body=reply.body, usage=anthropic_usage(reply.body.get("usage") or {}))

    def native_stream(
        self, target: ProviderTarget, model: str, body: Mapping[str, Any], headers: NativeHeaders, request: ChatRequest
    ) -> NativeAnthropicStream:
        """The event stream as Anthropic sends it; ``request`` (internal body) only feeds the estimate
        used when the stream is cut before Anthropic reported its counts."""
        payload = native_body(body, model, stream=True)
        response = self._http.open_stream(
            self.name, self._url(target, "/v1/messages"), self._native_headers(target, headers), payload, classify
        )
        return NativeAnthropicStream(self.name, response, request)

    def count_tokens(self, target: ProviderTarget, model: str, body: Mapping[str, Any], headers: NativeHeaders) -> int:
        """``POST /v1/messages/count_tokens``: Anthropic's own count of the prompt (free, not metered)."""
        reply = self._http.post_json(
            self.name,
            self._url(target, "/v1/messages/count_tokens"),
            self._native_headers(target, headers),
            count_body(body, model),
            classify,
        )
        count = reply.body.get("input_tokens") if isinstance(reply.body, dict) else None
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise upstream_error(self.name, FailureKind.PROTOCOL, status=reply.status)
        return count


class AnthropicStream(MeteredStream):
    def _chunks(self) -> Iterator[dict[str, Any]]:
        self._id, self._created = "msg", int(time.time())
        self._tool_index: dict[int, int] = {}
        for event in iter_sse(iter_lines(self.provider, self._response)):
            data = parse_json_event(self.provider, event.data)
            if not isinstance(data, dict):
                continue
            kind = data.get("type")
            if kind == "message_stop":
                return
            if kind == "error":
                raise classify(0, data, {})
            delta = self._translate(kind, data)
            if delta is not None:
                yield make_chunk(self._id, self._request.model, self._created, *delta)

    def _translate(self, kind: Any, data: dict[str, Any]) -> tuple[dict[str, Any], str | None] | None:
        """One Anthropic event → (OpenAI delta, finish_reason), or None when nothing is emitted."""
        if kind == "message_start":
            message = data.get("message") or {}
            self._id = str(message.get("id", self._id))
            self._reported = anthropic_usage(message.get("usage") or {})
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
            if delta.get("type") == "input_json_delta":
                position = self._tool_index.setdefault(int(data.get("index", 0)), len(self._tool_index))
                call = {"index": position, "function": {"arguments": str(delta.get("partial_json", ""))}}
                return {"tool_calls": [call]}, None
            return None
        if kind == "message_delta":
            self._reported = anthropic_usage(data.get("usage") or {}, self._reported)
            reason = (data.get("delta") or {}).get("stop_reason")
            return ({}, STOP_REASONS.get(str(reason), "stop")) if reason else None
        return None  # ping, content_block_stop and event types added later


class NativeAnthropicStream(MeteredStream):
    """Anthropic's events as dicts, unchanged, metered from ``message_start``/``message_delta``."""

    def __init__(self, provider: str, response: Any, request: ChatRequest) -> None:
        super().__init__(provider, response, request)
        self._meter = NativeStreamMeter()

    def _chunks(self) -> Iterator[dict[str, Any]]:
        for event in iter_sse(iter_lines(self.provider, self._response)):
            data = parse_json_event(self.provider, event.data)
            if not isinstance(data, dict):
                continue
            if data.get("type") == "error":
                raise classify(0, data, {})
            yield data

    def _note(self, chunk: dict[str, Any]) -> None:
        self._meter.note(chunk)
        self._reported = self._meter.reported
        self._produced = self._meter.produced
