"""The provider port: every adapter turns an OpenAI-format chat request into its provider's wire
format and back, and reports normalized usage (uncached input, cache read/write, output, reasoning).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from tollgate.metering.output_cap import requested_cap


@dataclass(frozen=True)
class Usage:
    """Normalized token classes. ``reasoning_tokens`` is a subset of ``output_tokens``;
    ``cache_write_1h_tokens`` is the subset of ``cache_write_tokens`` billed at the 1-hour rate."""

    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_1h_tokens: int = 0
    provider_cost_usd: Decimal | None = None
    # Tollgate's estimate rather than the provider's report (missing or insane usage, cut streams).
    estimated: bool = False

    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.output_tokens

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI ``usage`` object for responses sent to clients."""
        usage: dict[str, Any] = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cache_read_tokens},
            "completion_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
        }
        return usage


@dataclass(frozen=True)
class ProviderTarget:
    """Where and with which key a call goes. ``api_key`` is plaintext held in memory only."""

    provider: str
    base_url: str
    api_key: str = field(repr=False)
    options: Mapping[str, Any] = field(default_factory=dict)
    credential_id: uuid.UUID | None = None
    credential_name: str | None = None
    free: bool = False  # a custom credential whose models cost nothing (priced at an explicit zero)


@dataclass(frozen=True)
class ChatRequest:
    """An OpenAI Chat Completions body addressed to ``model`` (the provider's own model id)."""

    model: str
    body: Mapping[str, Any]
    stream: bool = False

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))

    @property
    def max_tokens(self) -> int | None:
        requested = requested_cap(self.body)
        return requested[0] if requested is not None else None


@dataclass
class ChatResponse:
    body: dict[str, Any]  # an OpenAI ``chat.completion`` object
    usage: Usage


class ChatStream(Protocol):
    """An async iterator of OpenAI ``chat.completion.chunk`` dicts. ``usage`` reflects what was
    produced so far, so a stream cut short (client gone, upstream reset) can still be metered;
    ``aclose`` releases the upstream connection (idempotent)."""

    @property
    def usage(self) -> Usage: ...

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]: ...

    async def aclose(self) -> None: ...


class ProviderClient(Protocol):
    """One adapter per provider. Failures raise ``ProviderCallError`` (classified, no upstream body).
    ``stream`` must raise for failures that happen before the first chunk (bad status), so the
    invoker can still fail over; later failures surface while iterating. ``complete`` and
    ``stream`` run on the event loop and never block it; ``verify`` is synchronous (management
    routes call it from a worker thread)."""

    name: str

    async def complete(self, target: ProviderTarget, request: ChatRequest) -> ChatResponse: ...

    async def stream(self, target: ProviderTarget, request: ChatRequest) -> ChatStream: ...

    def verify(self, target: ProviderTarget) -> None:
        """The cheapest authenticated call the provider offers (e.g. list models); raises on failure."""
        ...
