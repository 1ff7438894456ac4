"""Google Gemini API adapter (generateContent / streamGenerateContent?alt=sse).

The key travels only in the ``x-goog-api-key`` header, never in the URL.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from tollgate.providers.base import ChatRequest, ChatResponse, ProviderTarget, Usage
from tollgate.providers.content import (
    function_tools,
    image_of,
    max_output_tokens,
    parts_of,
    stop_list,
    text_of,
    tool_arguments,
)
from tollgate.providers.errors import FailureKind, ProviderCallError, kind_for_status, upstream_error
from tollgate.providers.http import UpstreamHttp, error_object, iter_lines, iter_sse, parse_duration, parse_json_event
from tollgate.providers.streams import MeteredStream, make_chunk, make_completion
from tollgate.providers.usage_check import checked_report, checked_usage, token_count

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
API_PREFIX = "/v1beta/models/"

STATUS_KINDS = {
    "INVALID_ARGUMENT": FailureKind.BAD_REQUEST,
    "FAILED_PRECONDITION": FailureKind.QUOTA,  # billing not enabled / free tier unavailable for the account
    "PERMISSION_DENIED": FailureKind.AUTH,
    "UNAUTHENTICATED": FailureKind.AUTH,
    "NOT_FOUND": FailureKind.NOT_FOUND,
    "RESOURCE_EXHAUSTED": FailureKind.RATE_LIMIT,
    "INTERNAL": FailureKind.SERVER,
    "UNAVAILABLE": FailureKind.OVERLOADED,
    "DEADLINE_EXCEEDED": FailureKind.TIMEOUT,
}
AUTH_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED"})
TOOL_MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}
FILTER_REASONS = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"})


def classify(status: int, body: Any, headers: Mapping[str, str]) -> ProviderCallError:
    error = error_object(body)
    kind = STATUS_KINDS.get(str(error.get("status")), kind_for_status(status))
    retry_after: float | None = None
    for detail in error.get("details") or ():
        if not isinstance(detail, dict):
            continue
        if detail.get("reason") in AUTH_REASONS:
            kind = FailureKind.AUTH  # an invalid key is a 400 INVALID_ARGUMENT with this reason
        for violation in detail.get("violations") or ():
            if isinstance(violation, dict) and "PerDay" in str(violation.get("quotaId", "")):
                kind = FailureKind.QUOTA  # the daily quota: retrying before the reset is pointless
        if isinstance(detail.get("retryDelay"), str):
            retry_after = parse_duration(detail["retryDelay"])
    return upstream_error("gemini", kind, status=status or None, retry_after_s=retry_after)


GEMINI_REQUIRED = ("promptTokenCount",)


def gemini_usage(meta: Mapping[str, Any]) -> Usage:
    """promptTokenCount includes cachedContentTokenCount; thoughts are NOT inside candidates."""

    def count(name: str) -> int:
        return token_count(meta.get(name)) or 0

    prompt, cached = count("promptTokenCount"), count("cachedContentTokenCount")
    thoughts = count("thoughtsTokenCount")
    return Usage(
        input_tokens=max(0, prompt - cached) + count("toolUsePromptTokenCount"),
        cache_read_tokens=min(cached, prompt),
        output_tokens=count("candidatesTokenCount") + thoughts,
        reasoning_tokens=thoughts,
    )


def _clean_schema(schema: Any) -> Any:
    """Gemini's schema subset rejects some JSON Schema keywords."""
    if isinstance(schema, dict):
        return {
            k: _clean_schema(v) for k, v in schema.items() if k not in ("$schema", "additionalProperties", "strict")
        }
    if isinstance(schema, list):
        return [_clean_schema(v) for v in schema]
    return schema


def _user_parts(content: Any) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for part in parts_of(content):
        if part.get("type") == "text":
            parts.append({"text": str(part.get("text", ""))})
        elif part.get("type") == "image_url":
            image = image_of(part)
            if image.data is not None:
                parts.append({"inlineData": {"mimeType": image.media_type, "data": image.data}})
            else:
                parts.append({"fileData": {"fileUri": image.url}})
    return parts


def _message_parts(message: dict[str, Any], call_names: dict[str, str]) -> tuple[str, list[dict[str, Any]]]:
    role = message.get("role")
    if role == "user":
        return "user", _user_parts(message.get("content"))
    if role == "assistant":
        text = text_of(message.get("content"))
        parts: list[dict[str, Any]] = [{"text": text}] if text else []
        for call in message.get("tool_calls") or ():
            name = str((call.get("function") or {}).get("name"))
            call_names[str(call.get("id"))] = name
            parts.append({"functionCall": {"name": name, "args": tool_arguments(call)}})
        return "model", parts
    name = call_names.get(str(message.get("tool_call_id")), str(message.get("name", "tool")))
    response = {"content": text_of(message.get("content"))}
    return "user", [{"functionResponse": {"name": name, "response": response}}]


def _conversation(request: ChatRequest) -> tuple[list[str], list[dict[str, Any]]]:
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    call_names: dict[str, str] = {}
    for message in request.messages:
        if message.get("role") in ("system", "developer"):
            system.append(text_of(message.get("content")))
            continue
        role, parts = _message_parts(message, call_names)
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)  # Gemini wants alternating roles
        else:
            contents.append({"role": role, "parts": parts})
    return system, contents


def _generation_config(body: Any) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for source, name in (("temperature", "temperature"), ("top_p", "topP")):
        if isinstance(body.get(source), int | float):
            config[name] = body[source]
    limit = max_output_tokens(body)
    if limit is not None:
        config["maxOutputTokens"] = limit
    stops = stop_list(body.get("stop"))
    if stops:
        config["stopSequences"] = stops
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
        schema = (response_format.get("json_schema") or {}).get("schema")
        if schema:
            config["responseJsonSchema"] = schema
    return config


def _add_tools(out: dict[str, Any], body: Any) -> None:
    tools = function_tools(body)
    if not tools:
        return
    declarations = []
    for function in tools:
        declaration = {"name": function.get("name"), "description": function.get("description")}
        declaration["parameters"] = _clean_schema(function.get("parameters"))
        declarations.append({k: v for k, v in declaration.items() if v})
    out["tools"] = [{"functionDeclarations": declarations}]
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        names = [choice["function"].get("name")]
        out["toolConfig"] = {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": names}}
    elif isinstance(choice, str) and choice in TOOL_MODES:
        out["toolConfig"] = {"functionCallingConfig": {"mode": TOOL_MODES[choice]}}


def to_gemini(request: ChatRequest) -> dict[str, Any]:
    system, contents = _conversation(request)
    out: dict[str, Any] = {"contents": contents}
    if system:
        out["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    config = _generation_config(request.body)
    if config:
        out["generationConfig"] = config
    _add_tools(out, request.body)
    return out


def _read_candidate(payload: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]], str | None]:
    candidates = payload.get("candidates") or []
    if not candidates:
        return "", [], "content_filter" if payload.get("promptFeedback", {}).get("blockReason") else None
    candidate = candidates[0]
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in (candidate.get("content") or {}).get("parts") or ():
        if part.get("thought"):
            continue
        if isinstance(part.get("text"), str):
            text.append(part["text"])
        elif isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
            arguments = json.dumps(call.get("args") or {}, separators=(",", ":"))
            calls.append(
                {
                    "id": f"call_{uuid.uuid4().hex[:24]}",
                    "type": "function",
                    "function": {"name": call.get("name"), "arguments": arguments},
                }
            )
    reason = candidate.get("finishReason")
    finish: str | None = None
    if reason:
        finish = "length" if reason == "MAX_TOKENS" else "content_filter" if reason in FILTER_REASONS else "stop"
    return "".join(text), calls, finish


class GeminiProvider:
    name = "gemini"

    def __init__(self, http: UpstreamHttp) -> None:
        self._http = http

    def _url(self, target: ProviderTarget, model: str, method: str) -> str:
        return (target.base_url or DEFAULT_BASE_URL).rstrip("/") + API_PREFIX + model.removeprefix("models/") + method

    def _headers(self, target: ProviderTarget) -> dict[str, str]:
        return {"x-goog-api-key": target.api_key}

    def complete(self, target: ProviderTarget, request: ChatRequest) -> ChatResponse:
        url = self._url(target, request.model, ":generateContent")
        reply = self._http.post_json(self.name, url, self._headers(target), to_gemini(request), classify)
        payload = reply.body if isinstance(reply.body, dict) else {}
        text, calls, finish = _read_candidate(payload)
        message: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else None}
        if calls:
            message["tool_calls"] = calls
            finish = "tool_calls" if finish in (None, "stop") else finish
        answer = text + "".join(str(c.get("function", {}).get("arguments", "")) for c in calls)
        usage = checked_usage(
            self.name, payload.get("usageMetadata"), request, answer, gemini_usage, required=GEMINI_REQUIRED
        )
        body = make_completion(
            str(payload.get("responseId", "gemini")), request.model, message, finish or "stop", usage
        )
        return ChatResponse(body=body, usage=usage)

    def stream(self, target: ProviderTarget, request: ChatRequest) -> GeminiStream:
        url = self._url(target, request.model, ":streamGenerateContent?alt=sse")
        response = self._http.open_stream(self.name, url, self._headers(target), to_gemini(request), classify)
        return GeminiStream(self.name, response, request)

    def verify(self, target: ProviderTarget) -> None:
        url = (target.base_url or DEFAULT_BASE_URL).rstrip("/") + "/v1beta/models?pageSize=1"
        self._http.request_json(self.name, "GET", url, self._headers(target), None, classify=classify)


class GeminiStream(MeteredStream):
    def _chunks(self) -> Iterator[dict[str, Any]]:
        chunk_id, created, model = "gemini", int(time.time()), self._request.model
        started, tool_count, finish = False, 0, None
        for event in iter_sse(iter_lines(self.provider, self._response)):
            payload = parse_json_event(self.provider, event.data)
            if not isinstance(payload, dict):
                continue
            if isinstance(payload.get("error"), dict):
                raise classify(int(payload["error"].get("code") or 0), payload, {})
            if isinstance(payload.get("usageMetadata"), dict):
                self._reported = (
                    checked_report(self.provider, payload["usageMetadata"], self._request, gemini_usage)
                    or self._reported
                )
            chunk_id = str(payload.get("responseId", chunk_id))
            if not started:
                started = True
                yield make_chunk(chunk_id, model, created, {"role": "assistant", "content": ""})
            text, calls, reason = _read_candidate(payload)
            if text:
                yield make_chunk(chunk_id, model, created, {"content": text})
            for call in calls:
                yield make_chunk(chunk_id, model, created, {"tool_calls": [{"index": tool_count, **call}]})
                tool_count += 1
            finish = reason or finish
        if started:
            final = "tool_calls" if tool_count and finish in (None, "stop") else finish or "stop"
            yield make_chunk(chunk_id, model, created, {}, final)
