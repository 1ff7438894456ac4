"""``/v1/embeddings`` as an execute operation: the reservation is the input estimate at the model's
input rate (no output), the adapter is the provider's ``embed``, the answer is OpenAI's list shape.

Providers with an ``embed``: openai, deepseek, openrouter and custom (OpenAI-compatible
``/embeddings``), gemini (``batchEmbedContents``) and the built-in mock (deterministic vectors).
Others (anthropic, yandex) answer 400.

The inputs sent are ``body["input"]`` when the call carries them (the route puts them there, so the
guardrails gate scans them and may redact them), else the inputs the operation was built with.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from tollgate.execution.operations import StreamFraming
from tollgate.execution.resolver import Candidate
from tollgate.providers.base import ChatResponse, ChatStream, ProviderClient, ProviderTarget
from tollgate.providers.embeddings import EmbeddingRequest, Inputs, estimate_input_tokens
from tollgate.providers.errors import FailureKind, ProviderCallError


@runtime_checkable
class EmbeddingsClient(Protocol):
    async def embed(self, target: ProviderTarget, request: EmbeddingRequest) -> ChatResponse: ...


class EmbeddingsOperation:
    kind = "embeddings"

    def __init__(self, inputs: Inputs, *, dimensions: int | None, encoding_format: str, user: str | None) -> None:
        self._inputs = inputs
        self._dimensions = dimensions
        self._encoding_format = encoding_format
        self._user = user

    def prompt_tokens(self, candidate: Candidate) -> int:
        return estimate_input_tokens(self._inputs)

    def max_output_tokens(self) -> int | None:
        return 0

    async def complete(self, client: ProviderClient, candidate: Candidate, body: dict[str, Any]) -> ChatResponse:
        provider = candidate.provider
        if not isinstance(client, EmbeddingsClient):
            raise ProviderCallError(
                FailureKind.BAD_REQUEST, f"provider '{provider}' offers no embeddings API", provider=provider
            )
        inputs = body.get("input", self._inputs)  # the gate's (possibly redacted) copy
        request = EmbeddingRequest(candidate.model, inputs, self._dimensions, self._encoding_format, self._user)
        if request.token_arrays and provider == "gemini":
            message = "token-array input cannot be sent to gemini (it embeds text); send strings"
            raise ProviderCallError(FailureKind.BAD_REQUEST, message, provider=provider)
        response = await client.embed(candidate.target, request)
        response.body["model"] = f"{provider}/{candidate.model}"
        return response

    async def stream(self, client: ProviderClient, candidate: Candidate, body: dict[str, Any]) -> ChatStream:
        raise ProviderCallError(FailureKind.BAD_REQUEST, "embeddings do not stream", provider=candidate.provider)

    def framing(self, candidate: Candidate, request_id: str) -> StreamFraming:
        # Unreachable in practice: ``stream`` refuses first. Same refusal, so no call path can differ.
        raise ProviderCallError(FailureKind.BAD_REQUEST, "embeddings do not stream", provider=candidate.provider)
