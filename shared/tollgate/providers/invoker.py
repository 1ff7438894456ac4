"""Retries, failover, cooldown and pacing around the adapters (DESIGN §4).

Per candidate: at most ``max_attempts`` attempts (tenacity) on retryable failures (408/409/429/5xx/529,
timeouts, network errors), waiting exponentially 1 → 2 → 4 s (cap 10 s, ±25 % jitter) or what the
server asked for (``Retry-After``, ``x-ratelimit-reset-*``); a server asking for more than the cap is
not retried but failed over. Then the next candidate (priority order, cooling credentials last) takes
over on failures another credential might not have; bad requests and unknown models never fail over.

A stream is opened and its first chunk fetched inside the retried attempt; once a chunk has been
handed to the caller (and so possibly to the client) the stream is never retried.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from tollgate.execution.operations import CallOperation
from tollgate.execution.resolver import Candidate
from tollgate.providers.base import ChatRequest, ChatResponse, ChatStream, Usage
from tollgate.providers.errors import FAILOVER, ProviderCallError
from tollgate.providers.health import HealthTracker
from tollgate.providers.registry import ProviderRegistry

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    base_wait_s: float = 1.0
    max_wait_s: float = 10.0
    jitter: float = 0.25

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Wait after the ``attempt``-th failure: base × 2^(attempt-1), capped, ±jitter."""
        wait = min(self.max_wait_s, self.base_wait_s * 2 ** (attempt - 1))
        return float(min(self.max_wait_s, wait * (1 - self.jitter + 2 * self.jitter * rng())))


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


class PrefetchedStream:
    """A stream whose first chunk was already read (inside the retry window)."""

    def __init__(self, inner: ChatStream, chunks: Iterator[dict[str, Any]], first: dict[str, Any] | None) -> None:
        self._inner = inner
        self._chunks = chunks
        self._first = first

    @property
    def usage(self) -> Usage:
        return self._inner.usage

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        yield from self._chunks

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        self._inner.close()


class ProviderInvoker:
    def __init__(
        self,
        registry: ProviderRegistry,
        *,
        health: HealthTracker | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._registry = registry
        self._health = health
        self._policy = policy or RetryPolicy()
        self._sleep = sleep

    def complete(
        self, candidates: list[Candidate], body: dict[str, Any], operation: CallOperation | None = None
    ) -> CompletedCall:
        def attempt(candidate: Candidate) -> ChatResponse:
            client = self._registry.get(candidate.provider)
            if operation is not None:
                return operation.complete(client, candidate, body)
            return client.complete(candidate.target, ChatRequest(candidate.model, body, stream=False))

        candidate, response, started = self._failover(candidates, attempt)
        return CompletedCall(candidate, _fallback(candidates, candidate), _ms_since(started), response=response)

    def open_stream(
        self, candidates: list[Candidate], body: dict[str, Any], operation: CallOperation | None = None
    ) -> OpenedStream:
        def attempt(candidate: Candidate) -> ChatStream:
            client = self._registry.get(candidate.provider)
            if operation is not None:
                stream = operation.stream(client, candidate, body)
            else:
                stream = client.stream(candidate.target, ChatRequest(candidate.model, body, stream=True))
            chunks = iter(stream)
            try:
                first = next(chunks, None)
            except BaseException:
                stream.close()
                raise
            return PrefetchedStream(stream, chunks, first)

        candidate, stream, started = self._failover(candidates, attempt)
        return OpenedStream(candidate, _fallback(candidates, candidate), _ms_since(started), stream=stream)

    def _failover(self, candidates: list[Candidate], attempt: Callable[[Candidate], T]) -> tuple[Candidate, T, float]:
        ordered = self._health.order(candidates) if self._health else list(candidates)
        last_error: ProviderCallError | None = None
        for candidate in ordered:
            started = time.perf_counter()
            try:
                result = self._with_retries(candidate, attempt)
            except ProviderCallError as exc:
                last_error = exc
                if exc.kind not in FAILOVER:
                    raise
                if self._health:
                    self._health.failed(candidate, exc)
                continue
            if self._health:
                self._health.succeeded(candidate)
            return candidate, result, started
        assert last_error is not None
        raise last_error

    def _with_retries(self, candidate: Candidate, attempt: Callable[[Candidate], T]) -> T:
        policy = self._policy

        def should_retry(exc: BaseException) -> bool:
            if not isinstance(exc, ProviderCallError) or not exc.retryable:
                return False
            return exc.retry_after_s is None or exc.retry_after_s <= policy.max_wait_s

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, ProviderCallError) and exc.retry_after_s is not None:
                return min(exc.retry_after_s, policy.max_wait_s)
            return policy.backoff(state.attempt_number)

        def one_attempt() -> T:
            if self._health:
                pause = self._health.pace(candidate)
                if pause > 0:
                    self._sleep(pause)
            return attempt(candidate)

        retrying = Retrying(
            stop=stop_after_attempt(policy.max_attempts),
            wait=wait,
            retry=retry_if_exception(should_retry),
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(one_attempt)


def _fallback(candidates: list[Candidate], served: Candidate) -> str | None:
    first = candidates[0]
    return None if served is first else first.target.credential_name or first.provider


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
