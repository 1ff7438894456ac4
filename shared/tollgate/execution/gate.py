"""The policy gate in front of the execute path: routing rules, then request guardrails.

``admit`` runs before planning (so before any reservation or provider call):

1. the first matching routing rule decides the candidates (a ``block`` rule refuses the call);
2. the guardrails scan every message part (and every string of an embeddings ``input``); ``block``
   refuses the call, ``redact`` replaces the forwarded body, ``warn`` adds the
   ``x-tollgate-guardrail`` response header. Embeddings token arrays under a redacting or blocking
   policy are refused (``unscannable_input``): no detector can read them.

After the call, ``screen_response`` scans a non-streamed answer and ``stream_screen`` builds the
screen a streamed answer is relayed through (``tollgate.execution.screen``).

A refused call writes a usage row with status ``refused``, cost 0 and the error type
(``routing_blocked`` or ``guardrail_blocked``), then raises the 403 / 400 error.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from tollgate.clock import Clock
from tollgate.db.models import UsageRecord
from tollgate.db.repositories.usage import UsageRepository
from tollgate.execution.attribution import Attribution
from tollgate.execution.blocking import BlockingPool
from tollgate.execution.resolver import parse_model
from tollgate.execution.screen import StreamScreen
from tollgate.guardrails.chunks import ChunkScreen
from tollgate.guardrails.service import GUARDRAIL_HEADER, GuardrailBlocked, GuardrailService, UnscannableInput
from tollgate.guardrails.stream import StreamScanner
from tollgate.routing.planner import Routing, RoutingBlocked, RoutingPlanner


class GatedCall(Protocol):
    @property
    def workspace_id(self) -> uuid.UUID: ...
    @property
    def key_id(self) -> uuid.UUID | None: ...
    @property
    def request_id(self) -> str: ...
    @property
    def body(self) -> dict[str, Any]: ...
    @property
    def attribution(self) -> Attribution: ...
    @property
    def requested_model(self) -> str: ...
    @property
    def stream(self) -> bool: ...


@dataclass(frozen=True)
class Admitted:
    routing: Routing | None
    body: dict[str, Any]  # what to forward (redacted when a detector redacts)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def routing_rule_id(self) -> uuid.UUID | None:
        return self.routing.rule_id if self.routing is not None else None


class PolicyGate:
    def __init__(
        self,
        routing: RoutingPlanner,
        guardrails: GuardrailService,
        sessions: sessionmaker[Session],
        clock: Clock,
    ) -> None:
        self._routing = routing
        self._guardrails = guardrails
        self._sessions = sessions
        self._clock = clock

    def admit(self, call: GatedCall) -> Admitted:
        """Raises ``RoutingBlocked`` (403) or ``GuardrailBlocked`` (400) after recording the refusal."""
        try:
            routing = self._routing.decide(call.workspace_id, call.body, call.attribution, call.key_id)
        except RoutingBlocked as blocked:
            self._refuse(call, None, "routing_blocked", blocked.rule_id)
            raise
        scanned = self._guardrails.scan_request(call.workspace_id, call.request_id, call.body)
        blocked_by = scanned.blocked_by
        if blocked_by is not None or scanned.unscannable:
            self._refuse(call, routing, "guardrail_blocked", routing.rule_id if routing else None)
            raise GuardrailBlocked(blocked_by) if blocked_by is not None else UnscannableInput()
        headers = {GUARDRAIL_HEADER: ",".join(scanned.warned)} if scanned.warned else {}
        return Admitted(routing, scanned.body, headers)

    def may_screen_response(self, call: GatedCall) -> bool:
        """False only when the workspace's cached policy says responses are not scanned, so the
        async execute path skips the blocking-pool hop of ``screen_response`` (no database)."""
        policy = self._guardrails.cached_policy(call.workspace_id)
        return policy is None or policy.scan_responses

    def screen_response(self, call: GatedCall, response: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        """The response to return: redacted when response scanning finds a redact/block hit; a warn
        hit adds its detector to the ``x-tollgate-guardrail`` header."""
        scanned = self._guardrails.scan_response(call.workspace_id, call.request_id, response)
        if scanned is None:
            return response
        if scanned.warned:
            names = [n for n in headers.get(GUARDRAIL_HEADER, "").split(",") if n]
            headers[GUARDRAIL_HEADER] = ",".join(dict.fromkeys([*names, *scanned.warned]))
        return scanned.body

    def stream_screen(self, call: GatedCall, blocking: BlockingPool) -> StreamScreen | None:
        """The response guardrails of a streamed answer (``tollgate.execution.screen``), or None when
        the workspace does not scan responses. Reads the policy (database when not cached): call it
        on the blocking pool."""
        policy = self._guardrails.policy(call.workspace_id)
        if not policy.scan_responses:
            return None
        scanner = StreamScanner(policy.active)
        if not scanner.active:
            return None
        return StreamScreen(ChunkScreen(scanner), self._guardrails.record, blocking, call.workspace_id, call.request_id)

    def _refuse(self, call: GatedCall, routing: Routing | None, error_type: str, rule_id: uuid.UUID | None) -> None:
        if routing is not None and routing.candidates:
            provider, model = routing.candidates[0].provider, routing.candidates[0].model
        else:
            ref = parse_model(call.requested_model or "?")
            provider, model = ref.provider or "", ref.model
        record_refusal(
            self._sessions, self._clock, call, provider=provider, model=model, error_type=error_type, rule_id=rule_id
        )


def record_refusal(
    sessions: sessionmaker[Session],
    clock: Clock,
    call: GatedCall,
    *,
    provider: str,
    model: str,
    error_type: str,
    rule_id: uuid.UUID | None = None,
) -> None:
    """Write the ``refused`` usage row of a call refused before any provider call: cost 0,
    latency 0, ``error_type`` naming the refusal (``routing_blocked``, ``guardrail_blocked``,
    ``budget_exceeded``, ``model_unpriced``, ...). One writer for every refusal, so the failure
    rate counts them all."""
    record = UsageRecord(
        id=uuid.uuid4(),
        workspace_id=call.workspace_id,
        request_id=call.request_id,
        key_id=call.key_id,
        provider=provider,
        model=model,
        requested_model=call.requested_model,
        workflow=call.attribution.workflow,
        agent=call.attribution.agent,
        tags=list(call.attribution.tags),
        status="refused",
        error_type=error_type,
        cost_usd=Decimal(0),
        latency_ms=0,
        stream=call.stream,
        routing_rule_id=rule_id,
        created_at=clock.now(),
    )
    with sessions.begin() as session:
        UsageRepository(session).add(record)
