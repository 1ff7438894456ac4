"""Google Gemini API adapter (generateContent / streamGenerateContent?alt=sse).

The key travels only in the ``x-goog-api-key`` header, never in the URL.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

from tollgate.errors import InvalidRequest
from tollgate.providers import embeddings
from tollgate.providers.base import ChatRequest, ChatResponse, ProviderTarget, Usage
from tollgate.providers.content import (
    function_tools,
    image_of,
    max_output_tokens,
    parts_of,
    require_single_choice,
    stop_list,
    text_of,
    tool_arguments,
    tool_call_names,
    unsupported,
)
from tollgate.providers.embeddings import EmbeddingRequest
from tollgate.providers.errors import FailureKind, ProviderCallError, kind_for_status, upstream_error
from tollgate.providers.http import (
    JsonReply,
    SseEvent,
    UpstreamHttp,
    UpstreamRequest,
    error_object,
    parse_duration,
    parse_json_event,
)
from tollgate.providers.http_adapter import HttpProvider
from tollgate.providers.registry import ProviderSpec
from tollgate.providers.streams import SseDecoder, make_chunk, make_completion
from tollgate.providers.usage_check import checked_report, checked_usage, token_count

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
# Google's documented placeholder for a function call whose thought signature is unknown
# (ai.google.dev/gemini-api/docs/thought-signatures, FAQ: histories built elsewhere).
SIGNATURE_PLACEHOLDER = "skip_thought_signature_validator"
FILTER_REASONS = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"})


def classify(status: int, body: Any, headers: Mapping[str, str]) -> ProviderCallError:
    error = error_object(body)
    kind = STATUS_KINDS.get(str(error.get("status")), kind_for_status(status))
    retry_after: float | None = None
    field: Any = None
    for detail in error.get("details") or ():
        if not isinstance(detail, dict):
            continue
        for violation in detail.get("fieldViolations") or ():  # google.rpc.BadRequest
            if isinstance(violation, dict) and field is None:
                field = violation.get("field")
        if detail.get("reason") in AUTH_REASONS:
            kind = FailureKind.AUTH  # an invalid key is a 400 INVALID_ARGUMENT with this reason
        for violation in detail.get("violations") or ():
            if isinstance(violation, dict) and "PerDay" in str(violation.get("quotaId", "")):
                kind = FailureKind.QUOTA  # the daily quota: retrying before the reset is pointless
        if isinstance(detail.get("retryDelay"), str):
            retry_after = parse_duration(detail["retryDelay"])
    return upstream_error(
        "gemini", kind, status=status or None, retry_after_s=retry_after, error_type=error.get("status"), param=field
    )


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


def _user_parts(content: Any, where: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for index, part in enumerate(parts_of(content)):
        kind = part.get("type")
        if kind == "text":
            if part.get("text"):  # Gemini refuses empty text parts
                parts.append({"text": str(part["text"])})
        elif kind == "image_url":
            image = image_of(part)
            if image.data is not None:
                parts.append({"inlineData": {"mimeType": image.media_type, "data": image.data}})
            else:
                parts.append({"fileData": {"fileUri": image.url}})
        elif kind == "file" and str((part.get("file") or {}).get("file_data", "")).startswith("data:"):
            header, _, data = str(part["file"]["file_data"]).partition(",")
            mime = header.removeprefix("data:").split(";")[0] or "application/octet-stream"
            parts.append({"inlineData": {"mimeType": mime, "data": data}})
        else:
            raise unsupported("gemini", f"{where}.content[{index}].type", f"content parts of type {kind!r}")
    return parts


def thought_signature(call: dict[str, Any]) -> str | None:
    """The Gemini thought signature an OpenAI tool call carries, as Gemini's own OpenAI-compatible
    API puts it: ``extra_content.google.thought_signature``."""
    extra = call.get("extra_content")
    google = extra.get("google") if isinstance(extra, dict) else None
    signature = google.get("thought_signature") if isinstance(google, dict) else None
    return signature if isinstance(signature, str) and signature else None


def needs_thought_signatures(model: str) -> bool:
    """Gemini 3 models refuse a history whose function calls lack their thought signature."""
    return model.removeprefix("models/").startswith("gemini-3")


def _assistant_parts(message: dict[str, Any], model: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"text": text} for text in [text_of(message.get("content"))] if text]
    calls: list[dict[str, Any]] = []
    for call in message.get("tool_calls") or ():
        part: dict[str, Any] = {"functionCall": {"name": str((call.get("function") or {}).get("name"))}}
        part["functionCall"]["args"] = tool_arguments(call)
        signature = thought_signature(call)
        if signature:
            part["thoughtSignature"] = signature
        calls.append(part)
    if calls and needs_thought_signatures(model) and not any("thoughtSignature" in c for c in calls):
        # A history from elsewhere (another provider, an older client) has no signature: Google
        # documents this placeholder to skip the validation (only the first call of a step needs one).
        calls[0]["thoughtSignature"] = SIGNATURE_PLACEHOLDER
    return parts + calls


def _message_parts(
    message: dict[str, Any], call_names: dict[str, str], model: str, where: str
) -> tuple[str, list[dict[str, Any]]]:
    role = message.get("role")
    if role == "user":
        return "user", _user_parts(message.get("content"), where)
    if role == "assistant":
        return "model", _assistant_parts(message, model)
    if role not in ("tool", "function"):
        raise InvalidRequest(f"{where}.role: must be system, developer, user, assistant or tool")
    name = call_names.get(str(message.get("tool_call_id")), str(message.get("name", "tool")))
    response = {"content": text_of(message.get("content"))}
    return "user", [{"functionResponse": {"name": name, "response": response}}]


def _conversation(request: ChatRequest) -> tuple[list[str], list[dict[str, Any]]]:
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    call_names = tool_call_names(request.messages)
    for index, message in enumerate(request.messages):
        if message.get("role") in ("system", "developer"):
            text = text_of(message.get("content"))
            if text:
                system.append(text)
            continue
        role, parts = _message_parts(message, call_names, request.model, f"messages[{index}]")
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)  # Gemini wants alternating roles
        else:
            contents.append({"role": role, "parts": parts})
    return system, contents


def _generation_config(body: Any) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for source, name in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
        ("seed", "seed"),
    ):
        if isinstance(body.get(source), int | float) and not isinstance(body.get(source), bool):
            config[name] = body[source]
    limit = max_output_tokens(body)
    if limit is not None:
        config["maxOutputTokens"] = limit
    stops = [s for s in stop_list(body.get("stop")) if s]
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
    """The generateContent body for ``request``. Raises ``InvalidRequest`` (400) for what cannot be sent."""
    require_single_choice(request.body, "gemini")
    system, contents = _conversation(request)
    if not contents:
        raise InvalidRequest("messages: at least one user or assistant message with content is required")
    out: dict[str, Any] = {"contents": contents}
    if system:
        out["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    config = _generation_config(request.body)
    if config:
        out["generationConfig"] = config
    _add_tools(out, request.body)
    return out


def _tool_call(part: dict[str, Any], response_id: str, index: int) -> dict[str, Any]:
    call = part["functionCall"]
    call_id = call.get("id")
    if not isinstance(call_id, str) or not call_id:  # Gemini rarely names its calls: derive a stable id
        call_id = "call_" + hashlib.sha256(f"{response_id}:{index}".encode()).hexdigest()[:24]
    out: dict[str, Any] = {
        "id": call_id,
        "type": "function",
        "function": {"name": call.get("name"), "arguments": json.dumps(call.get("args") or {}, separators=(",", ":"))},
    }
    if isinstance(part.get("thoughtSignature"), str):
        out["extra_content"] = {"google": {"thought_signature": part["thoughtSignature"]}}
    return out


def _read_candidate(payload: Mapping[str, Any], first_call: int = 0) -> tuple[str, list[dict[str, Any]], str | None]:
    """(text, tool calls, finish reason) of the first candidate; call ids are numbered from ``first_call``."""
    candidates = payload.get("candidates") or []
    if not candidates:
        return "", [], "content_filter" if payload.get("promptFeedback", {}).get("blockReason") else None
    candidate = candidates[0]
    response_id = str(payload.get("responseId", ""))
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in (candidate.get("content") or {}).get("parts") or ():
        if part.get("thought"):
            continue
        if isinstance(part.get("text"), str):
            text.append(part["text"])
        elif isinstance(part.get("functionCall"), dict):
            calls.append(_tool_call(part, response_id, first_call + len(calls)))
    reason = candidate.get("finishReason")
    finish: str | None = None
    if reason:
        finish = "length" if reason == "MAX_TOKENS" else "content_filter" if reason in FILTER_REASONS else "stop"
    return "".join(text), calls, finish


class GeminiProvider(HttpProvider):
    def _url(self, target: ProviderTarget, model: str, method: str) -> str:
        return self.url(target, API_PREFIX + model.removeprefix("models/") + method)

    def _headers(self, target: ProviderTarget) -> dict[str, str]:
        return {"x-goog-api-key": target.api_key}

    def complete_request(self, target: ProviderTarget, request: ChatRequest) -> UpstreamRequest:
        url = self._url(target, request.model, ":generateContent")
        return UpstreamRequest(self.name, "POST", url, self._headers(target), to_gemini(request), classify)

    def parse_completion(self, reply: JsonReply, request: ChatRequest) -> ChatResponse:
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

    def stream_request(self, target: ProviderTarget, request: ChatRequest) -> UpstreamRequest:
        url = self._url(target, request.model, ":streamGenerateContent?alt=sse")
        return UpstreamRequest(self.name, "POST", url, self._headers(target), to_gemini(request), classify)

    def decoder(self, request: ChatRequest) -> GeminiDecoder:
        return GeminiDecoder(self.name, request)

    def verify_request(self, target: ProviderTarget) -> UpstreamRequest:
        url = self.url(target, "/v1beta/models?pageSize=1")
        return UpstreamRequest(self.name, "GET", url, self._headers(target), None, classify)

    def embed_request(self, target: ProviderTarget, request: EmbeddingRequest) -> UpstreamRequest:
        """``:batchEmbedContents`` (key in ``x-goog-api-key``). Token-array input cannot be sent as text."""
        if request.token_arrays:
            raise upstream_error(self.name, FailureKind.BAD_REQUEST)
        url = self._url(target, request.model, ":batchEmbedContents")
        return UpstreamRequest(self.name, "POST", url, self._headers(target), embeddings.gemini_body(request), classify)

    def parse_embeddings(self, reply: JsonReply, request: EmbeddingRequest) -> ChatResponse:
        """Gemini reports no token counts, so the input is counted by the gateway's estimator."""
        vectors = embeddings.gemini_vectors(reply.body, len(request.inputs))
        if vectors is None:
            raise upstream_error(self.name, FailureKind.PROTOCOL, status=reply.status)
        usage = Usage(input_tokens=embeddings.estimate_input_tokens(request.inputs))
        body = embeddings.embedding_list(vectors, request.model, usage, request.encoding_format)
        return ChatResponse(body=body, usage=usage)

    async def embed(self, target: ProviderTarget, request: EmbeddingRequest) -> ChatResponse:
        reply = await self._http.send_json(self.embed_request(target, request))
        return self.parse_embeddings(reply, request)


class GeminiDecoder(SseDecoder):
    """Each Gemini SSE event is a whole (partial) response; the finish chunk is sent at the end."""

    def __init__(self, provider: str, request: ChatRequest) -> None:
        super().__init__(provider, request)
        self._id, self._created = "gemini", int(time.time())
        self._started, self._tool_count = False, 0
        self._finish: str | None = None

    def on_event(self, event: SseEvent) -> list[dict[str, Any]]:
        payload = parse_json_event(self.provider, event.data)
        if not isinstance(payload, dict):
            return []
        if isinstance(payload.get("error"), dict):
            raise classify(int(payload["error"].get("code") or 0), payload, {})
        if isinstance(payload.get("usageMetadata"), dict):
            self.reported = (
                checked_report(self.provider, payload["usageMetadata"], self.request, gemini_usage) or self.reported
            )
        self._id = str(payload.get("responseId", self._id))
        model, chunks = self.request.model, []
        if not self._started:
            self._started = True
            chunks.append(make_chunk(self._id, model, self._created, {"role": "assistant", "content": ""}))
        text, calls, reason = _read_candidate(payload, self._tool_count)
        if text:
            chunks.append(make_chunk(self._id, model, self._created, {"content": text}))
        for call in calls:
            delta = {"tool_calls": [{"index": self._tool_count, **call}]}
            chunks.append(make_chunk(self._id, model, self._created, delta))
            self._tool_count += 1
        self._finish = reason or self._finish
        return chunks

    def on_end(self) -> list[dict[str, Any]]:
        if not self._started:
            return []
        finish = self._finish
        final = "tool_calls" if self._tool_count and finish in (None, "stop") else finish or "stop"
        return [make_chunk(self._id, self.request.model, self._created, {}, final)]


def adapter(http: UpstreamHttp, spec: ProviderSpec) -> GeminiProvider:
    """The registry's adapter factory (``tollgate.providers.registry``)."""
    return GeminiProvider(http, spec)
