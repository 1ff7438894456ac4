"""Guardrail settings per workspace (cached), request/response scans, security events and alerts.

Settings are cached per workspace for ``cache_ttl_s`` (default 2 s), so a change reaches every
instance within that time. Each hit becomes a ``security_events`` row (detector, action, role,
message index; never the text). A ``guardrail.triggered`` alert is enqueued at most once per
(workspace, detector) per ``alert_every_s`` in this process.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tollgate.alerts.queue import AlertQueue
from tollgate.clock import Clock
from tollgate.db.models import SecurityEvent
from tollgate.db.repositories.rules import GuardrailSettingsRepository, SecurityEventRepository
from tollgate.errors import TollgateError
from tollgate.guardrails.policy import DEFAULT_POLICY, GuardAction, GuardrailPolicy
from tollgate.guardrails.scanner import Hit, ScanResult, scan
from tollgate.observability import logger

GUARDRAIL_EVENT = "guardrail.triggered"
GUARDRAIL_HEADER = "x-tollgate-guardrail"


class GuardrailBlocked(TollgateError):
    """400 ``guardrail_blocked``; ``code`` is the detector. The message never quotes the match."""

    type = "guardrail_blocked"
    status = 400
    default_code = "guardrail_blocked"

    def __init__(self, detector: str) -> None:
        super().__init__(
            f"The request was blocked by the '{detector}' guardrail before it reached any provider", code=detector
        )


UNSCANNABLE = "unscannable_input"


class UnscannableInput(GuardrailBlocked):
    """400 ``guardrail_blocked`` / ``unscannable_input``: embeddings token arrays under a policy that
    redacts or blocks (no detector can read token ids, so the promise could not be kept)."""

    def __init__(self) -> None:
        TollgateError.__init__(
            self,
            "Token-array input cannot be scanned, and this workspace's guardrails redact or block; send the input "
            "as strings",
            code=UNSCANNABLE,
        )


class GuardrailService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        alerts: AlertQueue | None = None,
        *,
        cache_ttl_s: float = 2.0,
        alert_every_s: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._alerts = alerts
        self._ttl = cache_ttl_s
        self._alert_every = timedelta(seconds=alert_every_s)
        self._monotonic = monotonic
        self._cache: dict[uuid.UUID, tuple[float, GuardrailPolicy]] = {}
        self._last_alert: dict[tuple[uuid.UUID, str], datetime] = {}
        self._lock = threading.Lock()

    # -- settings ------------------------------------------------------------------------------

    def policy(self, workspace_id: uuid.UUID) -> GuardrailPolicy:
        now = self._monotonic()
        cached = self._cache.get(workspace_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        policy = self.get(workspace_id)
        self._cache[workspace_id] = (now, policy)
        return policy

    def cached_policy(self, workspace_id: uuid.UUID) -> GuardrailPolicy | None:
        """The workspace's policy while its cache entry is fresh, else None (never reads the database)."""
        cached = self._cache.get(workspace_id)
        if cached is not None and self._monotonic() - cached[0] < self._ttl:
            return cached[1]
        return None

    def get(self, workspace_id: uuid.UUID) -> GuardrailPolicy:
        with self._sessions() as session:
            row = GuardrailSettingsRepository(session).get(workspace_id)
            if row is None:
                return DEFAULT_POLICY
            return GuardrailPolicy.from_stored(row.detectors, row.scan_responses)

    def put(self, workspace_id: uuid.UUID, policy: GuardrailPolicy) -> GuardrailPolicy:
        stored = policy.to_json()
        with self._sessions.begin() as session:
            GuardrailSettingsRepository(session).put(
                workspace_id, stored["detectors"], policy.scan_responses, self._clock.now()
            )
        self._cache.pop(workspace_id, None)
        return policy

    # -- scanning ------------------------------------------------------------------------------

    def scan_request(self, workspace_id: uuid.UUID, request_id: str, body: dict[str, Any]) -> ScanResult:
        """Scan the request's messages; hits are recorded as security events (and alerted)."""
        result = scan(body, self.policy(workspace_id))
        if result.hits:
            self.record(workspace_id, request_id, result.hits)
        return result

    def scan_response(self, workspace_id: uuid.UUID, request_id: str, body: dict[str, Any]) -> ScanResult | None:
        """Scan a non-streamed response when the workspace scans responses; None when it does not.
        A ``block`` action on a response redacts (the provider has already been paid)."""
        policy = self.policy(workspace_id)
        if not policy.scan_responses:
            return None
        result = scan(body, blocks_as_redacts(policy), response=True)
        if result.hits:
            self.record(workspace_id, request_id, result.hits)
        return result

    def events_page(
        self, workspace_id: uuid.UUID, limit: int, before: tuple[datetime, uuid.UUID] | None
    ) -> Sequence[SecurityEvent]:
        with self._sessions() as session:
            rows = SecurityEventRepository(session).page(workspace_id, limit, before)
            session.expunge_all()
        return rows

    def record(self, workspace_id: uuid.UUID, request_id: str, hits: Sequence[Hit]) -> None:
        """Write one security event per hit (own transaction) and alert each detector (throttled).
        Blocking (database): call it from the blocking pool on the async path."""
        now = self._clock.now()
        events = [
            SecurityEvent(
                id=uuid.uuid4(),
                workspace_id=workspace_id,
                request_id=request_id,
                detector=hit.detector,
                action=hit.action.value,
                role=hit.role,
                message_index=hit.message_index,
                created_at=now,
            )
            for hit in hits
        ]
        with self._sessions.begin() as session:
            SecurityEventRepository(session).add_all(events)
        for detector in dict.fromkeys(hit.detector for hit in hits):
            self._alert(workspace_id, request_id, detector, now)

    def _alert(self, workspace_id: uuid.UUID, request_id: str, detector: str, now: datetime) -> None:
        if self._alerts is None:
            return
        key = (workspace_id, detector)
        with self._lock:
            last = self._last_alert.get(key)
            if last is not None and now - last < self._alert_every:
                return
            self._last_alert[key] = now
        message = {
            "kind": GUARDRAIL_EVENT,
            "event": GUARDRAIL_EVENT,
            "alert_id": str(uuid.uuid4()),
            "workspace_id": str(workspace_id),
            "payload": {
                "event": GUARDRAIL_EVENT,
                "workspace_id": str(workspace_id),
                "detector": detector,
                "request_id": request_id,
                "occurred_at": now.isoformat(),
            },
        }
        try:
            self._alerts.enqueue(message)
        except Exception:
            logger.exception("could not enqueue a guardrail alert", extra={"detector": detector})


def blocks_as_redacts(policy: GuardrailPolicy) -> GuardrailPolicy:
    """The policy applied to responses: ``block`` redacts (the provider has already been paid)."""
    actions = {k: GuardAction.REDACT if v is GuardAction.BLOCK else v for k, v in policy.actions.items()}
    return GuardrailPolicy(actions, policy.scan_responses)
