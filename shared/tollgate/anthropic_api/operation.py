"""``/v1/messages`` as an execute operation: native to Anthropic, translated to everyone else.

Per candidate (so failover may cross providers): an ``anthropic`` candidate gets the client's body
as is (only ``model`` replaced) and its answer and events verbatim; any other provider gets the
internal OpenAI body (``translate.to_openai``), its answer turned into an Anthropic ``message`` and
its stream re-encoded (``AnthropicStreamEncoder``). Features that cannot be expressed outside
Anthropic fail that candidate with a 400 naming them, before anything is sent.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from tollgate.anthropic_api.errors import anthropic_status_and_type
from tollgate.anthropic_api.native import NativeHeaders
from tollgate.anthropic_api.stream import AnthropicStreamEncoder, error_event, sse_event
from tollgate.anthropic_api.translate import Translated, to_anthropic_message
from tollgate.errors import TollgateError
from tollgate.execution.operations import StreamFraming
from tollgate.execution.resolver import Candidate
from tollgate.pricing.tokens import estimate_prompt_tokens
from tollgate.providers.base import ChatRequest, ChatResponse, ChatStream, ProviderClient, ProviderTarget, Usage
from tollgate.providers.errors import FailureKind, ProviderCallError


@runtime_checkable
class NativeMessagesClient(Protocol):
    """An adapter that speaks the Messages API natively (``providers.anthropic.AnthropicProvider``)."""

    async def native_complete(
        self, target: ProviderTarget, model: str, body: dict[str, Any], headers: NativeHeaders
    ) -> ChatResponse: ...

    async def native_stream(
        self, target: ProviderTarget, model: str, body: dict[str, Any], headers: NativeHeaders, request: ChatRequest
    ) -> ChatStream: ...


class MessagesOperation:
    kind = "messages"

    def __init__(self, request: dict[str, Any], translated: Translated, headers: NativeHeaders) -> None:
        self._request = request  # the client's Anthropic body, as validated (extra fields kept)
        self._translated = translated
        self._headers = headers
        self._redacted = False

    def prompt_tokens(self, candidate: Candidate) -> int:
        return estimate_prompt_tokens(candidate.provider, candidate.model, self._translated.body)

    def max_output_tokens(self) -> int | None:
        return int(self._request["max_tokens"])

    def _native(self, client: ProviderClient, body: dict[str, Any]) -> bool:
        """Anthropic gets the client's own body, unless a guardrail redacted the request: then only the
        redacted body may leave, so the call goes the translated way (and streams in translated framing)."""
        self._redacted = body.get("messages") != self._translated.body.get("messages")
        return isinstance(client, NativeMessagesClient) and not self._redacted

    async def complete(self, client: ProviderClient, candidate: Candidate, body: dict[str, Any]) -> ChatResponse:
        if self._native(client, body) and isinstance(client, NativeMessagesClient):
            return await client.native_complete(candidate.target, candidate.model, self._request, self._headers)
        self._check(candidate)
        response = await client.complete(candidate.target, ChatRequest(candidate.model, body, stream=False))
        message = to_anthropic_message(response.body, public_model(candidate), response.usage)
        return ChatResponse(body=message, usage=response.usage)

    async def stream(self, client: ProviderClient, candidate: Candidate, body: dict[str, Any]) -> ChatStream:
        request = ChatRequest(candidate.model, body, stream=True)
        if self._native(client, body) and isinstance(client, NativeMessagesClient):
            return await client.native_stream(candidate.target, candidate.model, self._request, self._headers, request)
        self._check(candidate)
        return await client.stream(candidate.target, request)

    def framing(self, candidate: Candidate, request_id: str) -> StreamFraming:
        if candidate.provider == "anthropic" and not self._redacted:
            return NativeFraming()
        hint = self.prompt_tokens(candidate)
        return TranslatedFraming(AnthropicStreamEncoder(public_model(candidate), input_tokens_hint=hint))

    def _check(self, candidate: Candidate) -> None:
        if self._translated.refused:
            message = self._translated.refusal_message(candidate.provider)
            raise ProviderCallError(FailureKind.BAD_REQUEST, message, provider=candidate.provider)


def public_model(candidate: Candidate) -> str:
    return f"{candidate.provider}/{candidate.model}"


def _error_bytes(error: TollgateError, request_id: str) -> list[bytes]:
    _, kind = anthropic_status_and_type(error)
    return [error_event(kind, error.message, request_id)]


class NativeFraming:
    """Anthropic's own events, re-serialized unchanged. ``message_stop`` is held back until the call
    is recorded, so a client that saw the end of the stream can already see its usage."""

    def __init__(self) -> None:
        self._stop: dict[str, Any] | None = None

    def chunk(self, chunk: dict[str, Any]) -> list[bytes]:
        if chunk.get("type") == "message_stop":
            self._stop = chunk
            return []
        return [sse_event(chunk)]

    def finish(self, usage: Usage) -> list[bytes]:
        return [sse_event(self._stop)] if self._stop is not None else []

    def error(self, error: TollgateError, request_id: str) -> list[bytes]:
        return _error_bytes(error, request_id)


class TranslatedFraming:
    def __init__(self, encoder: AnthropicStreamEncoder) -> None:
        self._encoder = encoder

    def chunk(self, chunk: dict[str, Any]) -> list[bytes]:
        return self._encoder.feed(chunk)

    def finish(self, usage: Usage) -> list[bytes]:
        return self._encoder.finish(usage)

    def error(self, error: TollgateError, request_id: str) -> list[bytes]:
        _, kind = anthropic_status_and_type(error)
        return self._encoder.error(kind, error.message, request_id)
