"""Planning an execute call, before any provider is called: the policy gate, then resolve the
candidates, apply the key's limits, price, and reserve the worst case on the matching budgets.

Everything here is short synchronous database work and runs on the ``BlockingPool``. A refusal of
planning (budget 402, unpriced 409, model not allowed 403) writes the call's ``refused`` usage row.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from tollgate.budgets.guard import Admission, BudgetGuard, SpendContext
from tollgate.clock import Clock
from tollgate.db.repositories.workspaces import WorkspaceRepository
from tollgate.errors import BudgetExceeded, PermissionDenied, PricingUnavailable, TollgateError
from tollgate.execution.call import ExecuteCall
from tollgate.execution.gate import Admitted, PolicyGate, record_refusal
from tollgate.execution.resolver import Candidate, ModelResolver, parse_model
from tollgate.keys.limits import KeyLimiter
from tollgate.observability import logger
from tollgate.pricing.book import PriceBook
from tollgate.pricing.calculator import PriceRow, worst_case_cost
from tollgate.pricing.tokens import DEFAULT_MAX_OUTPUT_TOKENS, size_request
from tollgate.pricing.unpriced import BLOCK_UNPRICED, PricedAs, UnpricedAlerts, free_price, resolve_price

# refusals of planning that leave a ``refused`` usage row (the gate records its own)
_REFUSALS = (BudgetExceeded, PricingUnavailable, PermissionDenied)


@dataclass
class Plan:
    candidates: list[Candidate]
    price: PriceRow
    admission: Admission
    started: float
    downgraded_to: str | None = None
    estimated: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    routing_rule_id: uuid.UUID | None = None


class CallPlanner:
    def __init__(
        self,
        *,
        resolver: ModelResolver,
        prices: PriceBook,
        budgets: BudgetGuard,
        sessions: sessionmaker[Session],
        clock: Clock,
        key_limits: KeyLimiter,
        gate: PolicyGate | None = None,
        unpriced_alerts: UnpricedAlerts | None = None,
    ) -> None:
        self._resolver = resolver
        self._prices = prices
        self._budgets = budgets
        self._sessions = sessions
        self._clock = clock
        self._key_limits = key_limits
        self._gate = gate
        self._unpriced_alerts = unpriced_alerts

    def gate_and_plan(self, call: ExecuteCall) -> tuple[ExecuteCall, Plan]:
        """Runs on the blocking pool. Routing rules + request guardrails (``tollgate.execution.gate``)
        may refuse the call (its ``refused`` usage row is written here) or redact the forwarded
        body; then resolve, price and reserve."""
        admitted = None
        if self._gate is not None:
            admitted = self._gate.admit(call)
            call = replace(call, body=admitted.body)
        try:
            return call, self.plan(call, admitted)
        except _REFUSALS as refused:
            self._record_refusal(call, admitted, refused)
            raise

    def _record_refusal(self, call: ExecuteCall, admitted: Admitted | None, refused: TollgateError) -> None:
        """The ``refused`` row of a call planning refused (budget 402, unpriced 409, model 403);
        a failure to write it is logged and the refusal still answered."""
        ref = parse_model(call.requested_model or "?")
        rule_id = admitted.routing_rule_id if admitted is not None else None
        try:
            record_refusal(
                self._sessions,
                self._clock,
                call,
                provider=ref.provider or "",
                model=ref.model,
                error_type=refused.code,
                rule_id=rule_id,
            )
        except Exception:
            logger.exception("could not record a refused call")

    def plan(self, call: ExecuteCall, admitted: Admitted | None = None) -> Plan:
        started = time.perf_counter()
        routing = admitted.routing if admitted is not None else None
        if routing is not None:  # a routing rule chose the candidates
            candidates = routing.candidates
        else:
            candidates = self._resolver.resolve(call.workspace_id, call.resolve_as or call.requested_model)
        candidates = self._key_limits.admit(call.key_id, candidates, lambda c: self._worst_case_usd(call, c))
        priced = self.price_for(candidates[0], call)
        # the reservation covers the dearest candidate a rule may fail over to
        reserve = routing.reserve_price if routing is not None and routing.reserve_price else priced.price
        admission = self._admit(call, candidates[0], reserve, allow_downgrade=True)
        downgraded_to = None
        if admission.downgrade_model:
            downgraded_to = admission.downgrade_model
            candidates = self._resolver.resolve(call.workspace_id, downgraded_to)
            candidates = self._key_limits.allowed(call.key_id, candidates)
            priced = self.price_for(candidates[0], call)
            admission = self._admit(call, candidates[0], priced.price, allow_downgrade=False)
        return Plan(
            candidates,
            priced.price,
            admission,
            started,
            downgraded_to,
            estimated=priced.estimated,
            headers=dict(admitted.headers) if admitted is not None else {},
            routing_rule_id=admitted.routing_rule_id if admitted is not None else None,
        )

    def price_for(self, candidate: Candidate, call: ExecuteCall) -> PricedAs:
        provider, model = candidate.provider, candidate.model
        if candidate.target.free:  # a free custom credential: an explicit zero, source "free"
            return PricedAs(free_price(provider, model), estimated=False)
        policy = call.unpriced_policy
        if policy is None and self._prices.current(provider, model, call.workspace_id) is None:
            policy = self._workspace_policy(call.workspace_id)
        priced = resolve_price(self._prices, provider, model, policy or BLOCK_UNPRICED, call.workspace_id)
        if priced.estimated and self._unpriced_alerts is not None:
            self._unpriced_alerts.raise_once(str(call.workspace_id), provider, model, priced.price)
        return priced

    def price_for_served(self, candidate: Candidate, plan: Plan, call: ExecuteCall) -> PriceRow:
        if candidate is plan.candidates[0]:
            return plan.price
        if candidate.target.free:
            return free_price(candidate.provider, candidate.model)
        return self._prices.current(candidate.provider, candidate.model, call.workspace_id) or plan.price

    def _workspace_policy(self, workspace_id: uuid.UUID) -> str:
        with self._sessions() as session:
            workspace = WorkspaceRepository(session).get(workspace_id)
        return workspace.unpriced_policy if workspace is not None else BLOCK_UNPRICED

    def _worst_case_usd(self, call: ExecuteCall, candidate: Candidate, price: PriceRow | None = None) -> Decimal:
        """What budgets reserve for ``candidate``: the prompt estimate plus the output cap (``_size``)."""
        price = price or self.price_for(candidate, call).price
        prompt, output = self._size(call, candidate, price)
        return worst_case_cost(prompt, output, price)

    @staticmethod
    def _size(call: ExecuteCall, candidate: Candidate, price: PriceRow) -> tuple[int, int]:
        """(prompt tokens, output cap) a call is reserved for: the operation's own estimate for
        /v1/messages and /v1/embeddings, else the one request estimator (``pricing.tokens.size_request``)."""
        if call.operation is not None:
            max_out = call.operation.max_output_tokens()
            if not isinstance(max_out, int):
                max_out = price.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS
            return call.operation.prompt_tokens(candidate), max_out
        size = size_request(candidate.provider, candidate.model, call.body, price.max_output_tokens)
        return size.prompt_tokens, size.output_tokens

    def _admit(self, call: ExecuteCall, candidate: Candidate, price: PriceRow, *, allow_downgrade: bool) -> Admission:
        prompt_tokens, output_tokens = self._size(call, candidate, price)
        worst = worst_case_cost(prompt_tokens, output_tokens, price)
        context = SpendContext(
            workspace_id=call.workspace_id,
            key_id=call.key_id,
            provider=candidate.provider,
            model=candidate.model,
            workflow=call.attribution.workflow,
            agent=call.attribution.agent,
            request_id=call.request_id,
            user=call.attribution.user,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
        )
        return self._budgets.admit(context, worst, allow_downgrade=allow_downgrade)
