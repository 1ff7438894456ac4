"""Credential health as the invoker sees it: cooldown after failures and RPM pacing.

State lives in ``credential_health`` so every instance (Lambda containers, local workers) shares it;
each process caches what it read for ``cache_ttl_s`` (default 1 s) and updates its cache at once when
it records a failure itself.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from tollgate.clock import Clock
from tollgate.db.repositories.credential_health import RPM_WINDOW, CredentialHealthRepository, HealthState
from tollgate.execution.resolver import Candidate
from tollgate.observability import logger
from tollgate.providers.errors import ProviderCallError

if TYPE_CHECKING:
    from tollgate.providers.events import ProviderEvents

PACE_ABOVE = 0.9  # pace calls once a credential used 90% of its RPM limit in the current minute


class HealthTracker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        cooldown_s: float = 300.0,
        cache_ttl_s: float = 1.0,
        max_pace_s: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
        events: ProviderEvents | None = None,
        success_resolution_s: float = 60.0,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._cooldown = timedelta(seconds=cooldown_s)
        self._ttl = cache_ttl_s
        self._max_pace_s = max_pace_s
        self._monotonic = monotonic
        self._cache: dict[uuid.UUID, tuple[HealthState, float]] = {}
        self._lock = threading.Lock()
        self._events = events
        self._success_every = success_resolution_s
        self._last_success_write: dict[uuid.UUID, float] = {}

    def _states(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, HealthState]:
        now = self._monotonic()
        found: dict[uuid.UUID, HealthState] = {}
        missing: list[uuid.UUID] = []
        for credential_id in ids:
            hit = self._cache.get(credential_id)
            if hit is not None and hit[1] > now:
                found[credential_id] = hit[0]
            else:
                missing.append(credential_id)
        if missing:
            with self._sessions() as session:
                fresh = CredentialHealthRepository(session).states(missing)
            with self._lock:
                for credential_id, state in fresh.items():
                    self._cache[credential_id] = (state, now + self._ttl)
            found.update(fresh)
        return found

    def _fresh(self, credential_id: uuid.UUID) -> HealthState | None:
        hit = self._cache.get(credential_id)
        return hit[0] if hit is not None and hit[1] > self._monotonic() else None

    def cached_order(self, candidates: list[Candidate]) -> list[Candidate] | None:
        """``order`` from the cache alone (no database), or None when a state must be read first."""
        ids = [c.target.credential_id for c in candidates if c.target.credential_id is not None]
        states: dict[uuid.UUID, HealthState] = {}
        for credential_id in ids:
            state = self._fresh(credential_id)
            if state is None:
                return None
            states[credential_id] = state
        return self._ordered(candidates, states)

    def may_need_write(self, candidate: Candidate) -> bool:
        """False when the cache shows ``succeeded`` would write nothing (the common case: a clean
        credential whose ``last_success_at`` was written less than ``success_resolution_s`` ago)."""
        credential_id = candidate.target.credential_id
        if credential_id is None:
            return False
        state = self._fresh(credential_id)
        if state is None or state.consecutive_failures > 0 or state.cooldown_until is not None:
            return True
        return self._success_due(credential_id, self._monotonic())

    def _success_due(self, credential_id: uuid.UUID, tick: float) -> bool:
        """Whether a clean credential's ``last_success_at`` is due for its (at most once a period) write."""
        last = self._last_success_write.get(credential_id, -self._success_every)
        return tick - last >= self._success_every

    def may_pace(self, candidate: Candidate) -> bool:
        """False when the cache shows the credential has no RPM limit (``pace`` would return 0)."""
        credential_id = candidate.target.credential_id
        if credential_id is None:
            return False
        state = self._fresh(credential_id)
        return state is None or bool(state.rpm_limit)

    def order(self, candidates: list[Candidate]) -> list[Candidate]:
        """Candidates that are not cooling down first (in their order), cooling ones after them."""
        ids = [c.target.credential_id for c in candidates if c.target.credential_id is not None]
        if not ids:
            return list(candidates)
        return self._ordered(candidates, self._states(ids))

    def _ordered(self, candidates: list[Candidate], states: dict[uuid.UUID, HealthState]) -> list[Candidate]:
        now = self._clock.now()

        def cooling(candidate: Candidate) -> bool:
            state = states.get(candidate.target.credential_id) if candidate.target.credential_id else None
            return bool(state and state.cooldown_until and state.cooldown_until > now)

        ready = [c for c in candidates if not cooling(c)]
        return ready + [c for c in candidates if cooling(c)]

    def failed(self, candidate: Candidate, error: ProviderCallError) -> bool:
        """Start (or extend) the credential's cooldown. True when this caller claimed the one
        ``provider.failover`` announcement of this cooldown window (see ``announce_failover``)."""
        credential_id = candidate.target.credential_id
        if credential_id is None:
            return False
        state = self._states([credential_id]).get(credential_id)
        if state is None:
            return False
        now = self._clock.now()
        until = now + self._cooldown
        claimed = False
        try:
            with self._sessions.begin() as session:
                repo = CredentialHealthRepository(session)
                repo.record_failure(credential_id, state.workspace_id, error.kind.value, now, until)
                claimed = self._events is not None and repo.claim_failover_alert(credential_id, now, self._cooldown)
        except Exception:
            logger.exception("could not record a credential failure")
        updated = replace(state, cooldown_until=until, consecutive_failures=state.consecutive_failures + 1)
        with self._lock:
            self._cache[credential_id] = (updated, self._monotonic() + self._ttl)
        return claimed

    def announce_failover(self, failed: list[tuple[Candidate, ProviderCallError]], served: Candidate | None) -> None:
        """Publish ``provider.failover`` for the failures whose announcement this caller claimed."""
        if self._events is None:
            return
        for candidate, error in failed:
            credential_id = candidate.target.credential_id
            state = self._states([credential_id]).get(credential_id) if credential_id else None
            if state is None:
                continue
            try:
                self._events.failover(state.workspace_id, candidate, error.kind.value, served)
            except Exception:
                logger.exception("could not publish a provider.failover alert")

    def succeeded(self, candidate: Candidate) -> None:
        credential_id = candidate.target.credential_id
        if credential_id is None:
            return
        state = self._states([credential_id]).get(credential_id)
        if state is None:
            return
        clean = state.consecutive_failures == 0 and state.cooldown_until is None
        tick = self._monotonic()
        if clean and not self._success_due(credential_id, tick):
            return  # the common case writes at most once a minute (last_success_at)
        self._last_success_write[credential_id] = tick
        with self._sessions.begin() as session:
            recovered = CredentialHealthRepository(session).record_success(
                credential_id, state.workspace_id, self._clock.now()
            )
        if recovered and self._events is not None:
            try:
                self._events.recovered(state.workspace_id, candidate)
            except Exception:
                logger.exception("could not publish a provider.recovered alert")
        with self._lock:
            self._cache[credential_id] = (
                replace(state, cooldown_until=None, consecutive_failures=0),
                self._monotonic() + self._ttl,
            )

    def pace(self, candidate: Candidate) -> float:
        """Count the call against the credential's RPM limit; return how long to wait first."""
        credential_id = candidate.target.credential_id
        if credential_id is None:
            return 0.0
        state = self._states([credential_id]).get(credential_id)
        if state is None or not state.rpm_limit:
            return 0.0
        now = self._clock.now()
        with self._sessions.begin() as session:
            window = CredentialHealthRepository(session).count_request(credential_id, state.workspace_id, now)
        limit = state.rpm_limit
        if window.count <= PACE_ABOVE * limit:
            return 0.0
        remaining = max(0.0, (window.window_start + RPM_WINDOW - now).total_seconds())
        slots_left = limit - window.count
        wait = remaining / (slots_left + 1) if slots_left >= 0 else remaining
        return min(wait, self._max_pace_s)
