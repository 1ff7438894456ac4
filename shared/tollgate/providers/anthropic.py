"""Anthropic Messages API adapter (``anthropic-version: 2023-06-01``, key in ``x-api-key``).

The version is pinned because 2026-10-21 rejects ``temperature``/``top_p``, which OpenAI clients send.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import Any

from tollgate.providers.base import ChatRequest, ChatResponse, ProviderTarget, Usage
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
from tollgate.providers.usage_check import checked_report, checked_usage, token_count

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
    return upstream_error("anthropic", kind, status=status or None, retry_after_s=_retry_after(headers))


def anthropic_usage(usage: Mapping[str, Any], previous: Usage | None = None) -> Usage:
    """input_tokens excludes cache reads and writes; output_tokens includes thinking."""
    base = previous or Usage()

    def pick(name: str, default: int) -> int:
        value = token_count(usage.get(name))
        return default if value is None else value

    creation = usage.get("cache_creation")
    write_1h = base.cache_write_1h_tokens
    if isinstance(creation, dict) and token_count(creation.get("ephemeral_1h_input_tokens")) is not None:
        write_1h = token_count(creation["ephemeral_1h_input_tokens"]) or 0
    details = usage.get("output_tokens_details")
    reasoning = base.reasoning_tokens
    if isinstance(details, dict) and token_count(details.get("thinking_tokens")) is not None:
        reasoning = token_count(details["thinking_tokens"]) or 0
    return Usage(
        input_tokens=pick("input_tokens", base.input_tokens),
        cache_read_tokens=pick("cache_read_input_tokens", base.cache_read_tokens),
        cache_write_tokens=pick("cache_creation_input_tokens", base.cache_write_tokens),
        cache_write_1h_tokens=write_1h,
        output_tokens=pick("output_tokens", base.output_tokens),
        reasoning_tokens=reasoning,
    )


def _user_blocks(content: Any) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in parts_of(content):
        if part.get("type") == "text":
            blocks.append({"type": "text", "text": str(part.get("text", ""))})
        elif part.get("type") == "image_url":
            image = image_of(part)
            source = (
                {"type": "base64", "media_type": image.media_type, "data": image.data}
                if image.data is not None
                else {"type": "url", "url": image.url}
            )
            blocks.append({"type": "image", "source": source})
    return blocks


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


def _conversation(request: ChatRequest) -> tuple[list[str], list[dict[str, Any]]]:
    system: list[str] = []
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(text_of(message.get("content")))
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
        out["system"] = "\n\n".join(s for s in system if s)
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
        return from_anthropic(reply.body, request.model, request)

    def stream(self, target: ProviderTarget, request: ChatRequest) -> AnthropicStream:
        response = self._http.open_stream(
            self.name, self._url(target, "/v1/messages"), self._headers(target), to_anthropic(request, True), classify
        )
        return AnthropicStream(self.name, response, request)

    def verify(self, target: ProviderTarget) -> None:
        self._http.request_json(
            self.name, "GET", self._url(target, "/v1/models?limit=1"), self._headers(target), None, classify=classify
        )


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
            self._reported = checked_report(self.provider, message.get("usage") or {}, self._request, anthropic_usage)
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
            previous = self._reported
            update = checked_report(
                self.provider, data.get("usage") or {}, self._request, lambda raw: anthropic_usage(raw, previous)
            )
            self._reported = update or self._reported
            reason = (data.get("delta") or {}).get("stop_reason")
            return ({}, STOP_REASONS.get(str(reason), "stop")) if reason else None
        return None  # ping, content_block_stop and event types added later
