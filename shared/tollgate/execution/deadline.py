"""One deadline per execute invocation, shared by retries, failover and the upstream read.

A ``Deadline`` is a point on a monotonic clock. On Lambda it is the invocation's remaining time
minus a margin (the margin leaves room to write the usage row and answer before Lambda kills the
container); locally it is the longest a call may run (``call_deadline_s``). Every call's deadline
is shorter than its reservation's TTL, so the sweeper never settles a reservation whose call is
still running.

The deadline in force is held in a context variable (``bound``), so the HTTP layer can cap its
read timeout without every adapter passing it along; a context variable follows the request into
coroutines and is copied into threads started with ``contextvars.copy_context``.

When it runs out the call is not retried or failed over; the execute path charges the reservation
as an ``estimated`` usage row (never releases a started call) and answers 504
``provider_unavailable`` with ``x-should-retry: false`` (``DeadlineReached``), so OpenAI SDK
clients do not multiply the spend by retrying.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Protocol

from tollgate.errors import ProviderUnavailable

# Left for the settle, the usage row and the 504 once the deadline passes (seconds).
DEFAULT_MARGIN_S = 3.0
LWA_CONTEXT_HEADER = "x-amzn-lambda-context"

Monotonic = Callable[[], float]


class LambdaContextLike(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class DeadlineExceeded(Exception):  # noqa: N818 - a domain signal, turned into DeadlineReached at the edge
    """The invocation's deadline passed before the upstream call finished."""


class DeadlineReached(ProviderUnavailable):
    """504 ``provider_unavailable``; the call was charged (estimated) and must not be retried."""

    def __init__(self) -> None:
        super().__init__(
            "The provider did not answer before this invocation's deadline; the call was charged "
            "at its reserved worst case (estimated). Retrying would pay for it again.",
            code="deadline_exceeded",
            status=504,
            headers={"x-should-retry": "false"},
        )


class Deadline:
    """``expires_at`` on ``clock`` (seconds, monotonic)."""

    __slots__ = ("_clock", "expires_at")

    def __init__(self, expires_at: float, clock: Monotonic = time.monotonic) -> None:
        self.expires_at = expires_at
        self._clock = clock

    @classmethod
    def after(cls, seconds: float, clock: Monotonic = time.monotonic) -> Deadline:
        return cls(clock() + seconds, clock)

    @classmethod
    def from_lambda_context(
        cls, context: LambdaContextLike, margin_s: float = DEFAULT_MARGIN_S, clock: Monotonic = time.monotonic
    ) -> Deadline:
        """Remaining invocation time (``get_remaining_time_in_millis``) minus ``margin_s``."""
        return cls.after(context.get_remaining_time_in_millis() / 1000 - margin_s, clock)

    @classmethod
    def from_epoch_ms(
        cls,
        deadline_ms: float,
        margin_s: float = DEFAULT_MARGIN_S,
        *,
        wall: Callable[[], float] = time.time,
        clock: Monotonic = time.monotonic,
    ) -> Deadline:
        """A wall-clock deadline in epoch milliseconds (the Lambda runtime's) minus ``margin_s``."""
        return cls.after(deadline_ms / 1000 - wall() - margin_s, clock)

    def remaining_s(self) -> float:
        return max(0.0, self.expires_at - self._clock())

    @property
    def expired(self) -> bool:
        return self._clock() >= self.expires_at

    def check(self) -> None:
        """Raise ``DeadlineExceeded`` once the deadline has passed."""
        if self.expired:
            raise DeadlineExceeded()

    def cap(self, timeout_s: float) -> float:
        """``timeout_s`` shortened to what is left; raises ``DeadlineExceeded`` when nothing is."""
        left = self.expires_at - self._clock()
        if left <= 0:
            raise DeadlineExceeded()
        return min(timeout_s, left)

    def earliest(self, other: Deadline | None) -> Deadline:
        if other is None or self.expires_at <= other.expires_at:
            return self
        return other


def lwa_deadline(
    headers: Mapping[str, str], margin_s: float = DEFAULT_MARGIN_S, *, wall: Callable[[], float] = time.time
) -> Deadline | None:
    """The deadline the Lambda Web Adapter forwards in ``x-amzn-lambda-context`` (JSON with
    ``deadline`` or ``deadline_ms``, epoch milliseconds); None when absent or unreadable."""
    raw = headers.get(LWA_CONTEXT_HEADER)
    if not raw:
        return None
    try:
        parsed: Any = json.loads(raw)
    except ValueError:
        return None
    value = parsed.get("deadline", parsed.get("deadline_ms")) if isinstance(parsed, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return Deadline.from_epoch_ms(value, margin_s, wall=wall)


_current: ContextVar[Deadline | None] = ContextVar("tollgate_deadline", default=None)


def current() -> Deadline | None:
    """The deadline of the call running in this context, if any."""
    return _current.get()


@contextmanager
def bound(deadline: Deadline | None) -> Iterator[None]:
    """Make ``deadline`` the current one for the duration of the block."""
    token = _current.set(deadline)
    try:
        yield
    finally:
        _current.reset(token)


def check() -> None:
    """Raise ``DeadlineExceeded`` if the current deadline has passed (no-op without one)."""
    deadline = _current.get()
    if deadline is not None:
        deadline.check()


def capped_timeout(timeout_s: float) -> float:
    """``timeout_s`` capped by the current deadline (unchanged without one)."""
    deadline = _current.get()
    return timeout_s if deadline is None else deadline.cap(timeout_s)
