"""Retries, failover, cooldown and pacing around the adapters.

Per candidate: at most ``max_attempts`` attempts (tenacity) on retryable failures (408/409/429/5xx/529,
timeouts, network errors), waiting exponentially 1 → 2 → 4 s (cap 10 s, ±25 % jitter) or what the
server asked for (``Retry-After``, ``x-ratelimit-reset-*``); a server asking for more than the cap is
not retried but failed over. Then the next candidate (priority order, cooling credentials last) takes
over on failures another credential might not have; bad requests and unknown models never fail over.

A stream is opened and its first chunk fetched inside the retried attempt; once a chunk has been
handed to the caller (and so possibly to the client) the stream is never retried.

Everything here is async: attempts await the adapters on the event loop, waits (backoff, pacing)
are ``asyncio.sleep`` (injectable), and the short credential-health database steps run on the
bounded ``BlockingPool``. The first attempt on a candidate is made without retry machinery;
tenacity's ``AsyncRetrying`` takes over only after a retryable failure (most calls never fail, and
building it per call cost the event loop more than the attempt's own request building).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from tollgate.execution import deadline as deadlines
from tollgate.execution.blocking import BlockingPool
from tollgate.execution.operations import CallOperation
from tollgate.execution.resolver import Candidate
from tollgate.providers.base import ChatRequest, ChatResponse, ChatStream, Usage
from tollgate.providers.errors import FAILOVER, ProviderCallError
from tollgate.providers.health import HealthTracker
from tollgate.providers.registry import ProviderRegistry

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


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

    def __init__(self, inner: ChatStream, chunks: AsyncIterator[dict[str, Any]], first: dict[str, Any] | None) -> None:
        self._inner = inner
        self._chunks = chunks
        self._first = first

    @property
    def usage(self) -> Usage:
        return self._inner.usage

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        async for chunk in self._chunks:
            yield chunk

    async def aclose(self) -> None:
        aclose = getattr(self._chunks, "aclose", None)
        if aclose is not None:
            await aclose()
        await self._inner.aclose()


class ProviderInvoker:
    def __init__(
        self,
        registry: ProviderRegistry,
        *,
        health: HealthTracker | None = None,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        blocking: BlockingPool | None = None,
    ) -> None:
        self._registry = registry
        self._health = health
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._blocking = blocking or BlockingPool(4, name="tollgate-health")

    async def complete(
        self, candidates: list[Candidate], body: dict[str, Any], operation: CallOperation | None = None
    ) -> CompletedCall:
        async def attempt(candidate: Candidate) -> ChatResponse:
            client = self._registry.get(candidate.provider)
            if operation is not None:
                return await operation.complete(client, candidate, body)
            return await client.complete(candidate.target, ChatRequest(candidate.model, body, stream=False))

        candidate, response, started = await self._failover(candidates, attempt)
        return CompletedCall(candidate, _fallback(candidates, candidate), _ms_since(started), response=response)

    async def open_stream(
        self, candidates: list[Candidate], body: dict[str, Any], operation: CallOperation | None = None
    ) -> OpenedStream:
        async def attempt(candidate: Candidate) -> ChatStream:
            client = self._registry.get(candidate.provider)
            if operation is not None:
                stream = await operation.stream(client, candidate, body)
            else:
                stream = await client.stream(candidate.target, ChatRequest(candidate.model, body, stream=True))
            chunks = aiter(stream)
            try:
                first = await anext(chunks, None)
            except BaseException:
                await stream.aclose()
                raise
            return PrefetchedStream(stream, chunks, first)

        candidate, stream, started = await self._failover(candidates, attempt)
        return OpenedStream(candidate, _fallback(candidates, candidate), _ms_since(started), stream=stream)

    async def _failover(
        self, candidates: list[Candidate], attempt: Callable[[Candidate], Awaitable[T]]
    ) -> tuple[Candidate, T, float]:
        health = self._health
        ordered = list(candidates) if health is None else health.cached_order(candidates)
        if ordered is None and health is not None:
            ordered = await self._blocking.run(health.order, candidates)
        last_error: ProviderCallError | None = None
        announce: list[tuple[Candidate, ProviderCallError]] = []  # failovers whose alert this caller claimed
        for candidate in ordered or ():
            started = time.perf_counter()
            try:
                result = await self._with_retries(candidate, attempt)
            except ProviderCallError as exc:
                last_error = exc
                if exc.kind not in FAILOVER:
                    if health and announce:
                        await self._blocking.run(health.announce_failover, announce, None)
                    raise
                if health is not None:
                    claimed: bool = await self._blocking.run(health.failed, candidate, exc)
                    if claimed:
                        announce.append((candidate, exc))
                continue
            if health and announce:
                await self._blocking.run(_served_after_failover, health, candidate, announce)
            elif health and health.may_need_write(candidate):
                await self._blocking.run(health.succeeded, candidate)
            return candidate, result, started
        if last_error is None:
            raise ValueError("no candidate to call")  # the resolver never plans an empty list
        if health and announce:
            await self._blocking.run(health.announce_failover, announce, None)
        raise last_error

    async def _with_retries(self, candidate: Candidate, attempt: Callable[[Candidate], Awaitable[T]]) -> T:
        """Up to ``max_attempts`` attempts on ``candidate``. The first attempt is made directly (the
        common case: it succeeds or fails for good); tenacity's ``AsyncRetrying`` is built only once
        it failed retryably, and runs the rest with the same rules (attempts counted from 2)."""
        try:
            return await self._attempt(candidate, attempt)
        except ProviderCallError as exc:
            if not self._should_retry(exc):
                raise
            # as tenacity does: the wait (which checks the deadline) comes before the attempt limit
            first_wait = self._wait_after(exc, 1)
            if self._policy.max_attempts < 2:
                raise
        await self._sleep(first_wait)
        return await self._retry(candidate, attempt)

    async def _retry(self, candidate: Candidate, attempt: Callable[[Candidate], Awaitable[T]]) -> T:
        """Attempts 2..``max_attempts`` after a retryable first failure (tenacity)."""

        def wait(state: RetryCallState) -> float:  # state.attempt_number 1 is the call's attempt 2
            exc = state.outcome.exception() if state.outcome else None
            return self._wait_after(exc, state.attempt_number + 1)

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._policy.max_attempts - 1),
            wait=wait,
            retry=retry_if_exception(self._should_retry),
            sleep=self._sleep,
            reraise=True,
        )
        return await retrying(self._attempt, candidate, attempt)

    def _should_retry(self, exc: BaseException) -> bool:
        """Retryable failures whose requested wait (if any) is within the cap."""
        if not isinstance(exc, ProviderCallError) or not exc.retryable:
            return False
        return exc.retry_after_s is None or exc.retry_after_s <= self._policy.max_wait_s

    def _wait_after(self, exc: BaseException | None, attempt_number: int) -> float:
        """The wait after the ``attempt_number``-th failed attempt: the server's (capped) or the
        backoff; never past the call's deadline (``DeadlineExceeded`` once it has passed)."""
        policy = self._policy
        if isinstance(exc, ProviderCallError) and exc.retry_after_s is not None:
            return deadlines.capped_timeout(min(exc.retry_after_s, policy.max_wait_s))
        return deadlines.capped_timeout(policy.backoff(attempt_number))

    async def _attempt(self, candidate: Candidate, attempt: Callable[[Candidate], Awaitable[T]]) -> T:
        """One attempt: never past the deadline (``DeadlineExceeded``: no attempt, retry or
        failover), paced first when the credential's RPM pacing asks for it."""
        deadlines.check()
        health = self._health
        if health and health.may_pace(candidate):
            pause = await self._blocking.run(health.pace, candidate)
            if pause > 0:
                await self._sleep(deadlines.capped_timeout(pause))
        return await attempt(candidate)


def _fallback(candidates: list[Candidate], served: Candidate) -> str | None:
    first = candidates[0]
    return None if served is first else first.target.credential_name or first.provider


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _served_after_failover(
    health: HealthTracker, served: Candidate, announce: list[tuple[Candidate, ProviderCallError]]
) -> None:
    """One pool hop after a failover: ``served`` succeeded, then the claimed ``provider.failover`` alerts."""
    health.succeeded(served)
    health.announce_failover(announce, served)
