"""Background re-check of cooled-down credentials, so a recovery is noticed without waiting for traffic.

Each run takes the active credentials whose cooldown ended with no success since, claims each one
(an atomic UPDATE moves its ``cooldown_until`` forward by a lease, so one instance probes it), and makes
the provider's cheap verify call (the same call as ``POST /v1/credentials/{id}/test``):

* success: failures cleared, ``last_success_at`` stamped and ``provider.recovered`` published (once:
  only the caller whose UPDATE ended the failure streak publishes);
* failure: a new cooldown starts (no new failover alert: that one is announced by traffic).

Runs on a timer in ``tollgate serve`` and in the sweeper Lambda on AWS.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from tollgate.clock import Clock
from tollgate.db.repositories.credential_health import CredentialHealthRepository
from tollgate.execution.resolver import Candidate
from tollgate.observability import logger
from tollgate.providers.base import ProviderTarget
from tollgate.providers.errors import ProviderCallError
from tollgate.providers.events import ProviderEvents
from tollgate.providers.registry import ProviderRegistry


@dataclass(frozen=True)
class ProbeResult:
    probed: int
    recovered: int

    def as_dict(self) -> dict[str, int]:
        return {"probed": self.probed, "recovered": self.recovered}


class CredentialProber:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        providers: ProviderRegistry,
        target_for: Callable[[uuid.UUID, uuid.UUID], ProviderTarget],
        *,
        events: ProviderEvents | None,
        cooldown_s: float = 300.0,
        lease_s: float = 60.0,
        batch: int = 50,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._providers = providers
        self._target_for = target_for
        self._events = events
        self._cooldown = timedelta(seconds=cooldown_s)
        self._lease = timedelta(seconds=lease_s)
        self._batch = batch

    def run(self) -> ProbeResult:
        now = self._clock.now()
        with self._sessions() as session:
            due = CredentialHealthRepository(session).due_for_probe(now, self._batch)
        probed = recovered = 0
        for credential_id, workspace_id in due:
            with self._sessions.begin() as session:
                if not CredentialHealthRepository(session).claim_probe(credential_id, now, now + self._lease):
                    continue  # another instance took it
            probed += 1
            try:
                recovered += self._probe(workspace_id, credential_id)
            except Exception:
                logger.exception("credential probe failed", extra={"credential_id": str(credential_id)})
        return ProbeResult(probed, recovered)

    def _probe(self, workspace_id: uuid.UUID, credential_id: uuid.UUID) -> int:
        target = self._target_for(workspace_id, credential_id)
        candidate = Candidate(provider=target.provider, model="", target=target)
        try:
            self._providers.get(target.provider).verify(target)
        except ProviderCallError as exc:
            now = self._clock.now()
            with self._sessions.begin() as session:
                CredentialHealthRepository(session).record_failure(
                    credential_id, workspace_id, exc.kind.value, now, now + self._cooldown
                )
            return 0
        with self._sessions.begin() as session:
            ended_streak = CredentialHealthRepository(session).record_success(
                credential_id, workspace_id, self._clock.now()
            )
        if ended_streak and self._events is not None:
            self._events.recovered(workspace_id, candidate)
        return int(ended_streak)
