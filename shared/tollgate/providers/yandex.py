"""Yandex Foundation Models (YandexGPT) native completion API adapter.

Auth ``Authorization: Api-Key <key>`` (or ``Bearer <IAM token>`` with options.auth = "iam"), folder in
``x-folder-id`` and in ``modelUri`` (``gpt://<folder_id>/<model>/latest``). Token counts are strings.
Streaming is newline-delimited JSON with *cumulative* text, turned into OpenAI deltas here.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from tollgate.errors import InvalidRequest
from tollgate.providers.base import ChatRequest, ChatResponse, ProviderTarget, Usage
from tollgate.providers.content import (
    function_tools,
    max_output_tokens,
    parts_of,
    require_single_choice,
    stop_list,
    text_of,
    tool_arguments,
    tool_call_names,
    unsupported,
)
from tollgate.providers.errors import FailureKind, ProviderCallError, kind_for_status, upstream_error
from tollgate.providers.http import (
    JsonReply,
    UpstreamHttp,
    UpstreamRequest,
    error_object,
    parse_json_event,
    retry_after_seconds,
)
from tollgate.providers.http_adapter import HttpProvider
from tollgate.providers.registry import ProviderSpec
from tollgate.providers.streams import StreamDecoder, make_chunk, make_completion
from tollgate.providers.usage_check import checked_report, checked_usage, token_count

COMPLETION_PATH = "/foundationModels/v1/completion"
TOKENIZE_PATH = "/foundationModels/v1/tokenize"

GRPC_KINDS = {
    3: FailureKind.BAD_REQUEST,  # INVALID_ARGUMENT
    4: FailureKind.TIMEOUT,  # DEADLINE_EXCEEDED
    5: FailureKind.NOT_FOUND,
    7: FailureKind.AUTH,  # PERMISSION_DENIED
    8: FailureKind.RATE_LIMIT,  # RESOURCE_EXHAUSTED
    13: FailureKind.SERVER,  # INTERNAL
    14: FailureKind.OVERLOADED,  # UNAVAILABLE
    16: FailureKind.AUTH,  # UNAUTHENTICATED
}
GRPC_NAMES = {3: "INVALID_ARGUMENT", 5: "NOT_FOUND", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED"}
STATUSES = {
    "ALTERNATIVE_STATUS_TRUNCATED_FINAL": "length",
    "ALTERNATIVE_STATUS_FINAL": "stop",
    "ALTERNATIVE_STATUS_CONTENT_FILTER": "content_filter",
    "ALTERNATIVE_STATUS_TOOL_CALLS": "tool_calls",
}


def classify(status: int, body: Any, headers: Mapping[str, str]) -> ProviderCallError:
    error = error_object(body)  # {"error": {grpcCode, httpCode, ...}} or a bare {"code": ..} Status
    grpc = error.get("grpcCode", error.get("code"))
    kind = GRPC_KINDS.get(grpc, kind_for_status(status)) if isinstance(grpc, int) else kind_for_status(status)
    name = GRPC_NAMES.get(grpc) if isinstance(grpc, int) else None
    return upstream_error(
        "yandex", kind, status=status or None, retry_after_s=retry_after_seconds(headers), error_type=name
    )


def _count(value: Any) -> int:
    """A counter (Yandex sends decimal strings); anything else reads 0 (``sanitize_usage`` flags it)."""
    return token_count(value) or 0


YANDEX_REQUIRED = ("inputTextTokens", "completionTokens")


def yandex_usage(usage: Mapping[str, Any]) -> Usage:
    details = usage.get("completionTokensDetails")
    reasoning = _count(details.get("reasoningTokens")) if isinstance(details, dict) else 0
    output = _count(usage.get("completionTokens"))
    return Usage(
        input_tokens=_count(usage.get("inputTextTokens")), output_tokens=output, reasoning_tokens=min(reasoning, output)
    )


def model_uri(target: ProviderTarget, model: str) -> str:
    """``gpt://<folder>/<model>/latest`` (a full URI is kept).
    Raises ``InvalidRequest`` when the credential has no ``folder_id``."""
    if model.startswith(("gpt://", "emb://", "ds://")):
        return model
    folder = target.options.get("folder_id")
    if not isinstance(folder, str) or not folder:
        raise InvalidRequest("The yandex credential needs options.folder_id", code="credential_misconfigured")
    return f"gpt://{folder}/{model}" if "/" in model else f"gpt://{folder}/{model}/latest"


def _text(message: dict[str, Any], where: str) -> str:
    """Yandex messages are text only: an image or file part cannot be expressed (400, never dropped)."""
    for index, part in enumerate(parts_of(message.get("content"))):
        if part.get("type") != "text":
            raise unsupported("yandex", f"{where}.content[{index}].type", f"content parts of type {part.get('type')!r}")
    return text_of(message.get("content"))


def _messages(request: ChatRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    call_names = tool_call_names(request.messages)
    for index, message in enumerate(request.messages):
        role, where = message.get("role"), f"messages[{index}]"
        if role in ("system", "developer"):
            messages.append({"role": "system", "text": _text(message, where)})
        elif role == "user":
            messages.append({"role": "user", "text": _text(message, where)})
        elif role == "assistant" and message.get("tool_calls"):
            calls = [
                {"functionCall": {"name": (c.get("function") or {}).get("name"), "arguments": tool_arguments(c)}}
                for c in message["tool_calls"]
            ]
            messages.append({"role": "assistant", "toolCallList": {"toolCalls": calls}})
        elif role == "assistant":
            messages.append({"role": "assistant", "text": _text(message, where)})
        elif role in ("tool", "function"):
            name = call_names.get(str(message.get("tool_call_id")), str(message.get("name", "tool")))
            result = {"functionResult": {"name": name, "content": text_of(message.get("content"))}}
            messages.append({"role": "user", "toolResultList": {"toolResults": [result]}})
        else:
            raise InvalidRequest(f"{where}.role: must be system, developer, user, assistant or tool")
    return messages


def _tool_choice(choice: Any) -> dict[str, Any] | None:
    if isinstance(choice, str) and choice in ("none", "auto", "required"):
        return {"mode": choice.upper()}
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return {"functionName": choice["function"].get("name")}
    return None


def to_yandex(target: ProviderTarget, request: ChatRequest, stream: bool) -> dict[str, Any]:
    """The completion body for ``request``. Raises ``InvalidRequest`` (400) for fields Yandex cannot
    express: ``n`` > 1, ``stop``, image and file parts. ``top_p`` and penalties are dropped."""
    body = request.body
    require_single_choice(body, "yandex")
    if any(stop_list(body.get("stop"))):
        raise unsupported("yandex", "stop", "stop sequences are not supported")
    options: dict[str, Any] = {"stream": stream}
    if isinstance(body.get("temperature"), int | float):
        options["temperature"] = min(1.0, float(body["temperature"]))  # Yandex's range is [0, 1]
    limit = max_output_tokens(body)
    if limit is not None:
        options["maxTokens"] = str(limit)
    out: dict[str, Any] = {
        "modelUri": model_uri(target, request.model),
        "completionOptions": options,
        "messages": _messages(request),
    }
    tools = function_tools(body)
    if tools:
        out["tools"] = [{"function": {k: f[k] for k in ("name", "description", "parameters") if k in f}} for f in tools]
        choice = _tool_choice(body.get("tool_choice"))
        if choice:
            out["toolChoice"] = choice
        if isinstance(body.get("parallel_tool_calls"), bool):
            out["parallelToolCalls"] = body["parallel_tool_calls"]
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        if response_format.get("type") == "json_object":
            out["jsonObject"] = True
        elif response_format.get("type") == "json_schema":
            out["jsonSchema"] = {"schema": (response_format.get("json_schema") or {}).get("schema") or {}}
    return out


def _alternative(payload: Any) -> tuple[dict[str, Any], Mapping[str, Any]]:
    result = payload.get("result") if isinstance(payload, dict) else None
    if not isinstance(result, dict):
        raise upstream_error("yandex", FailureKind.PROTOCOL)
    alternatives = result.get("alternatives") or [{}]
    return alternatives[0], result.get("usage") or {}


def _tool_calls(message: Mapping[str, Any]) -> list[dict[str, Any]]:
    calls = []
    for call in (message.get("toolCallList") or {}).get("toolCalls") or ():
        function = call.get("functionCall") or {}
        arguments = json.dumps(function.get("arguments") or {}, separators=(",", ":"))
        calls.append(
            {
                "id": f"call_{uuid.uuid4().hex[:24]}",
                "type": "function",
                "function": {"name": function.get("name"), "arguments": arguments},
            }
        )
    return calls


class YandexProvider(HttpProvider):
    def _headers(self, target: ProviderTarget) -> dict[str, str]:
        scheme = "Bearer" if target.options.get("auth") == "iam" else "Api-Key"
        headers = {"authorization": f"{scheme} {target.api_key}", "x-data-logging-enabled": "false"}
        folder = target.options.get("folder_id")
        if isinstance(folder, str) and folder:
            headers["x-folder-id"] = folder
        return headers

    def _post(self, target: ProviderTarget, path: str, payload: dict[str, Any]) -> UpstreamRequest:
        return UpstreamRequest(self.name, "POST", self.url(target, path), self._headers(target), payload, classify)

    def complete_request(self, target: ProviderTarget, request: ChatRequest) -> UpstreamRequest:
        return self._post(target, COMPLETION_PATH, to_yandex(target, request, False))

    def parse_completion(self, reply: JsonReply, request: ChatRequest) -> ChatResponse:
        alternative, raw_usage = _alternative(reply.body)
        message = alternative.get("message") or {}
        calls = _tool_calls(message)
        content = message.get("text")
        out: dict[str, Any] = {
            "role": "assistant",
            "content": content if isinstance(content, str) else (None if calls else ""),
        }
        if calls:
            out["tool_calls"] = calls
        finish = STATUSES.get(str(alternative.get("status")), "stop")
        answer = (content if isinstance(content, str) else "") + "".join(str(c["function"]["arguments"]) for c in calls)
        usage = checked_usage(self.name, raw_usage or None, request, answer, yandex_usage, required=YANDEX_REQUIRED)
        return ChatResponse(
            body=make_completion(f"chatcmpl-yandex-{uuid.uuid4().hex[:16]}", request.model, out, finish, usage),
            usage=usage,
        )

    def stream_request(self, target: ProviderTarget, request: ChatRequest) -> UpstreamRequest:
        return self._post(target, COMPLETION_PATH, to_yandex(target, request, True))

    def decoder(self, request: ChatRequest) -> YandexDecoder:
        return YandexDecoder(self.name, request)

    def verify_request(self, target: ProviderTarget) -> UpstreamRequest:
        """Tokenizing one word is free and needs a valid key and folder."""
        return self._post(target, TOKENIZE_PATH, {"modelUri": model_uri(target, "yandexgpt-lite"), "text": "ping"})


class YandexDecoder(StreamDecoder):
    """Newline-delimited JSON with the *cumulative* text so far, turned into OpenAI deltas."""

    def __init__(self, provider: str, request: ChatRequest) -> None:
        super().__init__(provider, request)
        self._id, self._created = f"chatcmpl-yandex-{uuid.uuid4().hex[:16]}", int(time.time())
        self._sent, self._started = "", False

    def feed(self, line: str) -> list[dict[str, Any]]:
        if not line.strip():
            return []
        payload = parse_json_event(self.provider, line)
        if isinstance(payload, dict) and "error" in payload:
            error = error_object(payload)
            raise classify(_count(error.get("httpCode")), payload, {})
        alternative, raw_usage = _alternative(payload)
        if raw_usage:
            self.reported = checked_report(self.provider, raw_usage, self.request, yandex_usage) or self.reported
        chunk_id, created, model = self._id, self._created, self.request.model
        chunks: list[dict[str, Any]] = []
        if not self._started:
            self._started = True
            chunks.append(make_chunk(chunk_id, model, created, {"role": "assistant", "content": ""}))
        message = alternative.get("message") or {}
        text = message.get("text")
        if isinstance(text, str) and len(text) > len(self._sent):
            delta, self._sent = text[len(self._sent) :], text
            chunks.append(make_chunk(chunk_id, model, created, {"content": delta}))
        calls = _tool_calls(message)
        if calls:
            delta_calls = {"tool_calls": [{"index": i, **c} for i, c in enumerate(calls)]}
            chunks.append(make_chunk(chunk_id, model, created, delta_calls))
        status = str(alternative.get("status"))
        if status in STATUSES:
            chunks.append(make_chunk(chunk_id, model, created, {}, STATUSES[status]))
        return chunks


def adapter(http: UpstreamHttp, spec: ProviderSpec) -> YandexProvider:
    """The registry's adapter factory (``tollgate.providers.registry``)."""
    return YandexProvider(http, spec)
