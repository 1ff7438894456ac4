"""Per-key limits, enforced before any provider call: allowed models, a per-request cost cap, RPM and TPM.

Rules (each a gateway key field; unset means no limit):

* ``allowed_models``: globs (``fnmatch``, case-sensitive) on ``provider/model`` (a custom model is
  ``custom/<model>``, so a glob written ``custom:<name>/...`` is refused: it could never match). Candidates outside
  the list are dropped (a key limited to ``openai/*`` never fails over to another provider); when
  none is left the call is refused with 403 ``permission_error`` / ``model_not_allowed``.
* ``max_cost_per_request_usd``: the worst case of the first remaining candidate (the same worst case
  budgets reserve) above the cap is refused with 402 ``budget_exceeded`` / ``max_cost_per_request``.
* ``rpm_limit`` / ``tpm_limit``: one fixed one-minute window per key in ``key_rate_windows``, shared
  by every instance. Admission is one atomic conditional upsert that counts the request only while
  the window has fewer than ``rpm_limit`` requests and fewer than ``tpm_limit`` tokens; otherwise
  429 ``rate_limit_error`` with ``Retry-After`` (seconds to the window's end). Tokens (all classes
  the provider reported) are added when the call is recorded, so calls in flight are not yet counted.

Expiry (``expires_at``) is checked by the authenticator (401). Limits are cached per process for at
most ``cache_ttl_s`` (5 s, like the key itself); ``forget`` drops this instance's entry at once.
"""

from __future__ import annotations

import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from fnmatch import translate
from typing import Protocol, TypeVar

from sqlalchemy import case, select, text
from sqlalchemy.orm import Session, sessionmaker

from tollgate.clock import Clock
from tollgate.db.dialects import dialect_insert
from tollgate.db.models import GatewayKey, KeyRateWindow
from tollgate.errors import BudgetExceeded, PermissionDenied, RateLimited
from tollgate.money import format_usd

WINDOW = timedelta(minutes=1)
MAX_GLOB = 200
_GLOB_CHARS = re.compile(r"^[A-Za-z0-9_.:*?\[\]!/@+=-]+$")
_UNLIMITED = 2**31 - 1  # INTEGER max: above any allowed limit


class ModelRef(Protocol):
    @property
    def provider(self) -> str: ...

    @property
    def model(self) -> str: ...


C = TypeVar("C", bound=ModelRef)


def validate_model_glob(glob: str) -> str:
    """A glob as stored: stripped, ``*`` or containing ``provider/``; raises ``ValueError`` otherwise."""
    value = glob.strip()
    if not value or len(value) > MAX_GLOB or not _GLOB_CHARS.match(value):
        raise ValueError(f"{glob!r} is not a model glob (letters, digits, - _ . : / and * ? [ ] only)")
    if value != "*" and "/" not in value:
        raise ValueError(f"{glob!r} must be written provider/model, e.g. openai/gpt-4o* or anthropic/*")
    if value.startswith("custom:"):  # candidates are matched as custom/<model>: this could never match
        model = value.partition("/")[2] or "*"
        raise ValueError(
            f"{glob!r}: custom models are matched as custom/<model> (any custom credential); write custom/{model}"
        )
    return value


@dataclass(frozen=True)
class KeyLimits:
    key_id: uuid.UUID
    allowed_models: tuple[str, ...] | None
    rpm_limit: int | None
    tpm_limit: int | None
    max_cost_per_request_usd: Decimal | None
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)

    def __post_init__(self) -> None:
        if self.allowed_models is not None:
            pattern = re.compile("|".join(translate(g) for g in self.allowed_models) or "(?!)")
            object.__setattr__(self, "_pattern", pattern)

    def allows(self, provider: str, model: str) -> bool:
        return self._pattern is None or self._pattern.match(f"{provider}/{model}") is not None

    @property
    def counts_rate(self) -> bool:
        return self.rpm_limit is not None or self.tpm_limit is not None


def limits_of(row: GatewayKey) -> KeyLimits | None:
    """The limits of a key row, or None when it has none (the common, free path)."""
    limits = KeyLimits(
        key_id=row.id,
        allowed_models=tuple(row.allowed_models) if row.allowed_models is not None else None,
        rpm_limit=row.rpm_limit,
        tpm_limit=row.tpm_limit,
        max_cost_per_request_usd=row.max_cost_per_request_usd,
    )
    if limits.allowed_models is None and not limits.counts_rate and limits.max_cost_per_request_usd is None:
        return None
    return limits


def window_start(now: datetime) -> datetime:
    return now.replace(second=0, microsecond=0)


class KeyLimiter:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        cache_ttl_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._ttl = min(cache_ttl_s, 5.0)
        self._monotonic = monotonic
        self._cache: dict[uuid.UUID, tuple[KeyLimits | None, float]] = {}
        self._lock = threading.Lock()

    # -- the execute hooks ---------------------------------------------------------------------

    def admit(
        self,
        key_id: uuid.UUID | None,
        candidates: Sequence[C],
        worst_case_usd: Callable[[C], Decimal],
    ) -> list[C]:
        """The candidates this key may call; raises PermissionDenied, BudgetExceeded or RateLimited.

        ``worst_case_usd(candidate)`` is the cost budgets would reserve for it (only called when the
        key has a per-request cap). Counts the request in the key's window when it has RPM/TPM limits.
        """
        limits = self.limits(key_id)
        if limits is None:
            return list(candidates)
        allowed = self._allowed(limits, candidates)
        cap = limits.max_cost_per_request_usd
        if cap is not None:
            worst = worst_case_usd(allowed[0])
            if worst > cap:
                raise BudgetExceeded(
                    f"This request may cost up to {format_usd(worst)} USD, above this key's "
                    f"max_cost_per_request_usd of {format_usd(cap)} USD; lower max_tokens or shorten the prompt",
                    code="max_cost_per_request",
                    details={"limit_usd": format_usd(cap), "worst_case_usd": format_usd(worst)},
                )
        if limits.counts_rate:
            self._count_request(limits)
        return allowed

    def allowed(self, key_id: uuid.UUID | None, candidates: Sequence[C]) -> list[C]:
        """The candidates this key may call (no counting); raises PermissionDenied when none."""
        limits = self.limits(key_id)
        return list(candidates) if limits is None else self._allowed(limits, candidates)

    def count_tokens(self, session: Session, key_id: uuid.UUID | None, tokens: int) -> None:
        """Add a recorded call's tokens to the key's current window (inside the usage-row transaction)."""
        if tokens <= 0:
            return
        limits = self.limits(key_id, session)
        if limits is None or limits.tpm_limit is None:
            return
        start = window_start(self._clock.now())
        table = KeyRateWindow.__table__
        same = table.c.window_start == start
        statement = (
            dialect_insert(session.get_bind().dialect.name, table)
            .values(key_id=limits.key_id, window_start=start, requests=0, tokens=tokens)
            .on_conflict_do_update(
                index_elements=[table.c.key_id],
                set_={
                    "tokens": case((same, table.c.tokens + tokens), else_=tokens),
                    "requests": case((same, table.c.requests), else_=0),
                    "window_start": start,
                },
            )
        )
        session.execute(statement)

    # -- cache -----------------------------------------------------------------------------------

    def limits(self, key_id: uuid.UUID | None, session: Session | None = None) -> KeyLimits | None:
        """The key's limits (cached ≤ 5 s). Inside a transaction pass its ``session``: a second pooled
        connection per request could exhaust the pool under load (each request holding one, waiting for one)."""
        if key_id is None:
            return None
        now = self._monotonic()
        hit = self._cache.get(key_id)
        if hit is not None and hit[1] > now:
            return hit[0]
        if session is not None:
            row = session.get(GatewayKey, key_id)
            limits = limits_of(row) if row is not None else None
        else:
            with self._sessions() as own:
                row = own.get(GatewayKey, key_id)
                limits = limits_of(row) if row is not None else None
        with self._lock:
            self._cache[key_id] = (limits, now + self._ttl)
        return limits

    def forget(self, key_id: uuid.UUID | None = None) -> None:
        with self._lock:
            if key_id is None:
                self._cache.clear()
            else:
                self._cache.pop(key_id, None)

    # -- internals -------------------------------------------------------------------------------

    @staticmethod
    def _allowed(limits: KeyLimits, candidates: Sequence[C]) -> list[C]:
        allowed = [c for c in candidates if limits.allows(c.provider, c.model)]
        if not allowed:
            first = candidates[0] if candidates else None
            name = f"{first.provider}/{first.model}" if first is not None else "this model"
            raise PermissionDenied(
                f"This key may not call {name}; its allowed_models are {', '.join(limits.allowed_models or ())}",
                code="model_not_allowed",
            )
        return allowed

    def _count_request(self, limits: KeyLimits) -> None:
        now = self._clock.now()
        start = window_start(now)
        rpm = limits.rpm_limit or _UNLIMITED
        tpm = limits.tpm_limit or _UNLIMITED
        table = KeyRateWindow.__table__
        same = table.c.window_start == start
        with self._sessions.begin() as session:
            dialect = session.get_bind().dialect.name
            if dialect == "postgresql":
                # A rate window is not money: losing its last writes in a crash only lets a few requests
                # through again, so its commit does not wait for the WAL flush.
                session.execute(text("SET LOCAL synchronous_commit TO OFF"))
            statement = (
                dialect_insert(dialect, table)
                .values(key_id=limits.key_id, window_start=start, requests=1, tokens=0)
                .on_conflict_do_update(
                    index_elements=[table.c.key_id],
                    set_={
                        "requests": case((same, table.c.requests + 1), else_=1),
                        "tokens": case((same, table.c.tokens), else_=0),
                        "window_start": start,
                    },
                    where=(table.c.window_start != start) | ((table.c.requests < rpm) & (table.c.tokens < tpm)),
                )
                .returning(table.c.requests)
            )
            admitted = session.execute(statement).first()
            if admitted is not None:
                return
            used = session.execute(
                select(table.c.requests, table.c.tokens).where(table.c.key_id == limits.key_id)
            ).one()
        retry_after = max(1, math.ceil((start + WINDOW - now).total_seconds()))
        if limits.rpm_limit is not None and used.requests >= limits.rpm_limit:
            what, code = f"{limits.rpm_limit} requests per minute", "rpm_limit_exceeded"
        else:
            what, code = f"{limits.tpm_limit} tokens per minute", "tpm_limit_exceeded"
        raise RateLimited(
            f"This key is limited to {what}; retry in {retry_after} s",
            code=code,
            headers={"retry-after": str(retry_after)},
        )
