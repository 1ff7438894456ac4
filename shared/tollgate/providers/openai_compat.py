"""OpenAI Chat Completions and the providers that speak it: openai, deepseek, openrouter, custom.

The request passes through nearly unchanged; what differs per provider is the usage normalization
(which counters include cached / cache-write tokens) and the error table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tollgate.providers import embeddings
from tollgate.providers.base import ChatRequest, ChatResponse, ProviderTarget, Usage
from tollgate.providers.embeddings import EmbeddingRequest
from tollgate.providers.errors import FailureKind, ProviderCallError, kind_for_status, upstream_error
from tollgate.providers.http import (
    JsonReply,
    SseEvent,
    UpstreamHttp,
    UpstreamRequest,
    error_object,
    parse_json_event,
    retry_after_seconds,
)
from tollgate.providers.http_adapter import HttpProvider
from tollgate.providers.openai_request import openai_body
from tollgate.providers.registry import ProviderSpec
from tollgate.providers.streams import SseDecoder
from tollgate.providers.usage_check import answer_text, checked_report, checked_usage, reported_cost, token_count

# OpenAI 429s that are billing problems, not rate limits (provider_wire_formats.md §1).
OPENAI_QUOTA_CODES = frozenset(
    {
        "insufficient_quota",
        "credit_balance_exhausted",
        "organization_spend_limit_exceeded",
        "project_spend_limit_exceeded",
        "organization_usage_limit_exceeded",
    }
)
OPENAI_CODE_KINDS = {"invalid_api_key": FailureKind.AUTH, "model_not_found": FailureKind.NOT_FOUND}


OPENAI_REQUIRED = ("prompt_tokens", "completion_tokens")


def _int(value: Any) -> int:
    """A token counter; anything that is not one reads 0 (``sanitize_usage`` has flagged it)."""
    return token_count(value) or 0


def _details(usage: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = usage.get(name)
    return value if isinstance(value, dict) else {}


def openai_usage(usage: Mapping[str, Any]) -> Usage:
    """prompt_tokens includes cached_tokens; completion_tokens includes reasoning_tokens."""
    prompt = _int(usage.get("prompt_tokens"))
    cached = min(prompt, _int(_details(usage, "prompt_tokens_details").get("cached_tokens")))
    return Usage(
        input_tokens=prompt - cached,
        cache_read_tokens=cached,
        output_tokens=_int(usage.get("completion_tokens")),
        reasoning_tokens=_int(_details(usage, "completion_tokens_details").get("reasoning_tokens")),
    )


def deepseek_usage(usage: Mapping[str, Any]) -> Usage:
    """prompt_tokens = prompt_cache_hit_tokens + prompt_cache_miss_tokens (read DeepSeek's own fields first)."""
    if "prompt_cache_hit_tokens" not in usage and "prompt_cache_miss_tokens" not in usage:
        return openai_usage(usage)
    return Usage(
        input_tokens=_int(usage.get("prompt_cache_miss_tokens")),
        cache_read_tokens=_int(usage.get("prompt_cache_hit_tokens")),
        output_tokens=_int(usage.get("completion_tokens")),
        reasoning_tokens=_int(_details(usage, "completion_tokens_details").get("reasoning_tokens")),
    )


def openrouter_usage(usage: Mapping[str, Any]) -> Usage:
    """OpenAI semantics plus cache_write_tokens (taken as inside prompt_tokens) and the charged ``cost``."""
    prompt = _int(usage.get("prompt_tokens"))
    details = _details(usage, "prompt_tokens_details")
    cached = min(prompt, _int(details.get("cached_tokens")))
    written = min(prompt - cached, _int(details.get("cache_write_tokens")))
    cost = reported_cost(usage.get("cost"))
    return Usage(
        input_tokens=prompt - cached - written,
        cache_read_tokens=cached,
        cache_write_tokens=written,
        output_tokens=_int(usage.get("completion_tokens")),
        reasoning_tokens=_int(_details(usage, "completion_tokens_details").get("reasoning_tokens")),
        provider_cost_usd=cost,
    )


def classify_openai(provider: str) -> Callable[[int, Any, Mapping[str, str]], ProviderCallError]:
    def classify(status: int, body: Any, headers: Mapping[str, str]) -> ProviderCallError:
        error = error_object(body)
        code, kind_field = error.get("code"), error.get("type")
        kind = kind_for_status(status)
        if kind_field == "insufficient_quota" or (isinstance(code, str) and code in OPENAI_QUOTA_CODES):
            kind = FailureKind.QUOTA
        elif isinstance(code, str) and code in OPENAI_CODE_KINDS:
            kind = OPENAI_CODE_KINDS[code]
        return upstream_error(
            provider, kind, status=status, retry_after_s=retry_after_seconds(headers), **_reason(error)
        )

    return classify


def _reason(error: Mapping[str, Any]) -> dict[str, Any]:
    """The structured fields of an OpenAI-style error: ``code`` (else ``type``) and ``param``."""
    code = error.get("code")
    return {"error_type": code if isinstance(code, str) else error.get("type"), "param": error.get("param")}


def classify_deepseek(status: int, body: Any, headers: Mapping[str, str]) -> ProviderCallError:
    # DeepSeek's error type/code values are not documented; the status table is (402 = balance).
    kind = FailureKind.BAD_REQUEST if status == 422 else kind_for_status(status)
    reason = _reason(error_object(body))
    return upstream_error("deepseek", kind, status=status, retry_after_s=retry_after_seconds(headers), **reason)


def classify_openrouter(status: int, body: Any, headers: Mapping[str, str]) -> ProviderCallError:
    # error.code is numeric and equals the status; 403 is a moderation/guardrail refusal, not the key.
    code = error_object(body).get("code")
    effective = code if isinstance(code, int) and not isinstance(code, bool) and code >= 400 else status
    kind = FailureKind.BAD_REQUEST if effective == 403 else kind_for_status(effective)
    reason = _reason(error_object(body))
    return upstream_error("openrouter", kind, status=status, retry_after_s=retry_after_seconds(headers), **reason)


def _in_band_error(provider: str, payload: Mapping[str, Any]) -> ProviderCallError:
    code = error_object(payload).get("code")
    if isinstance(code, int) and not isinstance(code, bool) and code >= 400:
        return upstream_error(provider, kind_for_status(code))
    return upstream_error(provider, FailureKind.SERVER)


class OpenAICompatibleProvider(HttpProvider):
    def __init__(
        self,
        http: UpstreamHttp,
        spec: ProviderSpec,
        *,
        usage_from: Callable[[Mapping[str, Any]], Usage],
        classify: Callable[[int, Any, Mapping[str, str]], ProviderCallError],
        models_path: str = "/models",
    ) -> None:
        super().__init__(http, spec)
        self._usage_from = usage_from
        self._classify = classify
        self._models_path = models_path

    def _headers(self, target: ProviderTarget) -> dict[str, str]:
        headers = {"authorization": f"Bearer {target.api_key}"}
        options = target.options
        for option, header in (
            ("organization", "openai-organization"),
            ("project", "openai-project"),
            ("referer", "http-referer"),
            ("title", "x-title"),
        ):
            value = options.get(option)
            if isinstance(value, str) and value:
                headers[header] = value
        return headers

    def _body(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        return openai_body(self.name, request, stream)

    def _post(self, target: ProviderTarget, request: ChatRequest, stream: bool) -> UpstreamRequest:
        url = self.url(target, "/chat/completions")
        return UpstreamRequest(
            self.name, "POST", url, self._headers(target), self._body(request, stream), self._classify
        )

    def complete_request(self, target: ProviderTarget, request: ChatRequest) -> UpstreamRequest:
        return self._post(target, request, False)

    def parse_completion(self, reply: JsonReply, request: ChatRequest) -> ChatResponse:
        body = reply.body
        if not isinstance(body, dict) or not isinstance(body.get("choices"), list):
            if isinstance(body, dict) and "error" in body:
                raise _in_band_error(self.name, body)
            raise upstream_error(self.name, FailureKind.PROTOCOL, status=reply.status)
        answer = answer_text(body)
        usage = checked_usage(self.name, body.get("usage"), request, answer, self._usage_from, required=OPENAI_REQUIRED)
        body["usage"] = usage.to_openai()
        return ChatResponse(body=body, usage=usage)

    def stream_request(self, target: ProviderTarget, request: ChatRequest) -> UpstreamRequest:
        return self._post(target, request, True)

    def decoder(self, request: ChatRequest) -> OpenAIDecoder:
        return OpenAIDecoder(self.name, request, self._usage_from)

    def verify_request(self, target: ProviderTarget) -> UpstreamRequest:
        url = self.url(target, self._models_path)
        return UpstreamRequest(self.name, "GET", url, self._headers(target), None, self._classify)

    def embed_request(self, target: ProviderTarget, request: EmbeddingRequest) -> UpstreamRequest:
        """``POST {base}/embeddings`` with the request in OpenAI's shape."""
        url = self.url(target, "/embeddings")
        return UpstreamRequest(
            self.name, "POST", url, self._headers(target), embeddings.openai_body(request), self._classify
        )

    def parse_embeddings(self, reply: JsonReply, request: EmbeddingRequest) -> ChatResponse:
        """The OpenAI-shaped answer is passed on with its ``usage``."""
        body = reply.body
        if not embeddings.is_openai_list(body, len(request.inputs)):
            if isinstance(body, dict) and "error" in body:
                raise _in_band_error(self.name, body)
            raise upstream_error(self.name, FailureKind.PROTOCOL, status=reply.status)
        usage = self._usage_from(body.get("usage") or {})
        body["usage"] = {"prompt_tokens": usage.prompt_tokens, "total_tokens": usage.prompt_tokens}
        return ChatResponse(body=body, usage=usage)

    async def embed(self, target: ProviderTarget, request: EmbeddingRequest) -> ChatResponse:
        reply = await self._http.send_json(self.embed_request(target, request))
        return self.parse_embeddings(reply, request)


class OpenAIDecoder(SseDecoder):
    """OpenAI chunks pass through; the usage chunk is taken out (Tollgate sends its own); ``[DONE]`` ends."""

    def __init__(self, provider: str, request: ChatRequest, usage_from: Callable[[Mapping[str, Any]], Usage]) -> None:
        super().__init__(provider, request)
        self._usage_from = usage_from

    def on_event(self, event: SseEvent) -> list[dict[str, Any]]:
        if event.data.strip() == "[DONE]":
            self.done = True
            return []
        payload = parse_json_event(self.provider, event.data)
        if not isinstance(payload, dict):
            return []
        if isinstance(payload.get("error"), dict):
            raise _in_band_error(self.provider, payload)
        usage = payload.pop("usage", None)
        if isinstance(usage, dict):
            self.reported = checked_report(self.provider, usage, self.request, self._usage_from) or self.reported
        return [payload] if payload.get("choices") else []


# The registry's adapter factories (``tollgate.providers.registry``): ``(UpstreamHttp, ProviderSpec)``.
def openai_adapter(http: UpstreamHttp, spec: ProviderSpec) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(http, spec, usage_from=openai_usage, classify=classify_openai(spec.name))


def deepseek_adapter(http: UpstreamHttp, spec: ProviderSpec) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(http, spec, usage_from=deepseek_usage, classify=classify_deepseek)


def openrouter_adapter(http: UpstreamHttp, spec: ProviderSpec) -> OpenAICompatibleProvider:
    """OpenRouter's ``GET /models`` answers without a key, so the credential check reads ``/key``."""
    return OpenAICompatibleProvider(
        http, spec, usage_from=openrouter_usage, classify=classify_openrouter, models_path="/key"
    )


def custom_adapter(http: UpstreamHttp, spec: ProviderSpec) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(http, spec, usage_from=openai_usage, classify=classify_openai(spec.name))
