"""Call the first candidate that answers; fail over to the next on failures another credential
might not have (5xx, timeouts, rate limits, rejected keys). Bad requests never fail over."""

from __future__ import annotations

from dataclasses import dataclass

from tollgate.execution.resolver import Candidate
from tollgate.providers.base import ChatRequest, ChatResponse, ChatStream
from tollgate.providers.errors import FAILOVER, ProviderCallError
from tollgate.providers.registry import ProviderRegistry


@dataclass
class Served:
    candidate: Candidate
    fallback_from: str | None
    upstream_ms: int = 0


@dataclass
class CompletedCall(Served):
    response: ChatResponse | None = None


@dataclass
class OpenedStream(Served):
    stream: ChatStream | None = None


class ProviderInvoker:
    def __init__(self, registry: ProviderRegistry) -> None:
        self._registry = registry

    def complete(self, candidates: list[Candidate], body: dict[str, object]) -> CompletedCall:
        last_error: ProviderCallError | None = None
        for candidate in candidates:
            client = self._registry.get(candidate.provider)
            try:
                response = client.complete(candidate.target, ChatRequest(candidate.model, body, stream=False))
            except ProviderCallError as exc:
                last_error = exc
                if exc.kind not in FAILOVER:
                    raise
                continue
            return CompletedCall(candidate, _fallback(candidates, candidate), response=response)
        assert last_error is not None
        raise last_error

    def open_stream(self, candidates: list[Candidate], body: dict[str, object]) -> OpenedStream:
        last_error: ProviderCallError | None = None
        for candidate in candidates:
            client = self._registry.get(candidate.provider)
            try:
                stream = client.stream(candidate.target, ChatRequest(candidate.model, body, stream=True))
            except ProviderCallError as exc:
                last_error = exc
                if exc.kind not in FAILOVER:
                    raise
                continue
            return OpenedStream(candidate, _fallback(candidates, candidate), stream=stream)
        assert last_error is not None
        raise last_error


def _fallback(candidates: list[Candidate], served: Candidate) -> str | None:
    first = candidates[0]
    return None if served is first else first.target.credential_name or first.provider
