"""Planning an execute call, before any provider is called: the policy gate, then resolve the
candidates, apply the key's limits, price every candidate, and reserve on the matching budgets.

One rule prices and reserves every call, with or without a routing rule (docs/pricing.md, "What a
reservation counts"):

* each candidate that may serve the call (the requested model, its failover credentials and
  equivalents, or a routing rule's targets) is priced on its own, under the workspace's unpriced
  policy: its price row (or an explicit zero for a ``free`` credential); unpriced under
  ``estimate``, the nearest known model's price, flagged estimated; unpriced under
  ``block_unpriced``, it is never tried (dropped from the failover list; when it is the first
  candidate the call is refused 409, as a call to it alone would be);
* the reservation is the dearest candidate's worst case, so whichever candidate serves, the
  reservation covers it and a ``block`` budget that fits only a cheaper candidate refuses the call
  up front (402) instead of overspending on failover;
* the usage row is later billed with the price of the candidate that actually served (``Plan.priced``).

Everything here is short synchronous database work and runs on the ``BlockingPool``. A refusal of
planning (budget 402, unpriced 409, model not allowed 403, key rate window 429) writes the call's
``refused`` usage row.
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
from tollgate.errors import BudgetExceeded, PermissionDenied, PricingUnavailable, RateLimited, TollgateError
from tollgate.execution.call import ExecuteCall
from tollgate.execution.gate import Admitted, PolicyGate, record_refusal
from tollgate.execution.resolver import Candidate, ModelResolver, parse_model
from tollgate.keys.limits import KeyLimiter
from tollgate.observability import logger
from tollgate.pricing.book import PriceBook
from tollgate.pricing.calculator import PriceRow, worst_case_cost
from tollgate.pricing.tokens import DEFAULT_MAX_OUTPUT_TOKENS, size_request
from tollgate.pricing.unpriced import BLOCK_UNPRICED, PricedAs, UnpricedAlerts, free_price, resolve_price

# refusals of planning that leave a ``refused`` usage row (the gate records its own); RateLimited
# here is only a key's rpm/tpm window (a provider's 429 comes later, from the call itself)
_REFUSALS = (BudgetExceeded, PricingUnavailable, PermissionDenied, RateLimited)


@dataclass(frozen=True)
class CandidatePrice:
    """How one candidate is billed if it serves: ``price`` (USD per 1M tokens), ``estimated`` when
    that is the nearest model's price (unpriced policy ``estimate``), and the worst case of this
    call on it: ``prompt_tokens`` (estimate) + ``output_tokens`` (the cap sent upstream) →
    ``worst_case_usd``."""

    candidate: Candidate
    price: PriceRow
    estimated: bool
    prompt_tokens: int
    output_tokens: int
    worst_case_usd: Decimal


@dataclass(frozen=True)
class PricedCandidates:
    """The candidates that may serve, in failover order, each with its ``CandidatePrice``."""

    priced: tuple[CandidatePrice, ...]

    @property
    def candidates(self) -> list[Candidate]:
        return [p.candidate for p in self.priced]

    @property
    def first(self) -> CandidatePrice:
        return self.priced[0]

    @property
    def dearest(self) -> CandidatePrice:
        """What the reservation covers: the candidate with the highest worst case (the first on ties)."""
        return max(self.priced, key=lambda p: p.worst_case_usd)


@dataclass
class Plan:
    """``candidates`` in failover order with their prices (``priced``); ``price`` is the first
    candidate's (it sets the output cap sent upstream); ``admission`` holds the reservations."""

    priced: PricedCandidates
    admission: Admission
    started: float
    downgraded_to: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    routing_rule_id: uuid.UUID | None = None

    @property
    def candidates(self) -> list[Candidate]:
        return self.priced.candidates

    @property
    def price(self) -> PriceRow:
        return self.priced.first.price

    def price_of(self, served: Candidate) -> CandidatePrice:
        """The ``CandidatePrice`` of the candidate that served (the invoker returns one of
        ``candidates``). Never raises, so a served call is always recorded: a candidate not in the
        plan (a bug) is billed as the dearest one and logged."""
        for priced in self.priced.priced:
            if priced.candidate is served:
                return priced
        for priced in self.priced.priced:
            if priced.candidate == served:
                return priced
        logger.error("a served candidate is not in its plan; billed as the dearest candidate")
        return self.priced.dearest


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
        """Candidates (a routing rule's, else the resolver's), the key's limits, prices, reservation.
        Raises ``PermissionDenied`` (key), ``BudgetExceeded`` (key cap, budget), ``PricingUnavailable``
        (the first candidate unpriced under ``block_unpriced``), ``InvalidRequest`` (model)."""
        started = call.received if call.received is not None else time.perf_counter()
        routing = admitted.routing if admitted is not None else None
        if routing is not None:  # a routing rule chose the candidates
            resolved = routing.candidates
        else:
            resolved = self._resolver.resolve(call.workspace_id, call.resolve_as or call.requested_model)
        priced = self._admitted_by_key(call, resolved)
        admission = self._admit(call, priced, allow_downgrade=True)
        downgraded_to = None
        if admission.downgrade_model:
            downgraded_to = admission.downgrade_model
            resolved = self._resolver.resolve(call.workspace_id, downgraded_to)
            priced = self.price_candidates(call, self._key_limits.allowed(call.key_id, resolved))
            admission = self._admit(call, priced, allow_downgrade=False)
        return Plan(
            priced,
            admission,
            started,
            downgraded_to,
            headers=dict(admitted.headers) if admitted is not None else {},
            routing_rule_id=admitted.routing_rule_id if admitted is not None else None,
        )

    def _admitted_by_key(self, call: ExecuteCall, resolved: list[Candidate]) -> PricedCandidates:
        """The key's limits (allowed models, per-request cap checked against the same worst case the
        budgets reserve, RPM/TPM), then the prices of the candidates it allows."""
        checked: list[PricedCandidates] = []

        def worst_case_usd(_first: Candidate) -> Decimal:  # only called for a key with a per-request cap
            checked.append(self.price_candidates(call, self._key_limits.allowed(call.key_id, resolved)))
            return checked[-1].dearest.worst_case_usd

        allowed = self._key_limits.admit(call.key_id, resolved, worst_case_usd)
        return checked[-1] if checked else self.price_candidates(call, allowed)

    def price_candidates(self, call: ExecuteCall, candidates: list[Candidate]) -> PricedCandidates:
        """Each candidate priced under the workspace's unpriced policy; the unpriced ones under
        ``block_unpriced`` are dropped. Raises ``PricingUnavailable`` when the first one is."""
        policy: list[str] = []  # the workspace's unpriced policy, read at most once and only when needed
        by_model: dict[tuple[str, str, bool], PricedAs | PricingUnavailable] = {}
        sizes: dict[tuple[str, str], tuple[int, int]] = {}  # (prompt, output) per provider/model
        cap_price: PriceRow | None = None
        out: list[CandidatePrice] = []
        for index, candidate in enumerate(candidates):
            key = (candidate.provider, candidate.model, candidate.target.free)
            if key not in by_model:
                try:
                    by_model[key] = self._price_for(candidate, call, policy)
                except PricingUnavailable as unpriced:
                    by_model[key] = unpriced
            found = by_model[key]
            if isinstance(found, PricingUnavailable):
                if index == 0:
                    raise found
                continue  # an unpriced failover candidate under block_unpriced is never tried
            cap_price = cap_price or found.price  # the first candidate's cap is the one sent upstream
            out.append(self._candidate_price(call, candidate, found, cap_price, sizes))
        return PricedCandidates(tuple(out))

    def _price_for(self, candidate: Candidate, call: ExecuteCall, policy: list[str]) -> PricedAs:
        provider, model = candidate.provider, candidate.model
        if candidate.target.free:  # a free custom credential: an explicit zero, source "free"
            return PricedAs(free_price(provider, model), estimated=False)
        chosen = call.unpriced_policy
        if chosen is None and self._prices.current(provider, model, call.workspace_id) is None:
            if not policy:
                policy.append(self._workspace_policy(call.workspace_id))
            chosen = policy[0]
        priced = resolve_price(self._prices, provider, model, chosen or BLOCK_UNPRICED, call.workspace_id)
        if priced.estimated and self._unpriced_alerts is not None:
            self._unpriced_alerts.raise_once(str(call.workspace_id), provider, model, priced.price)
        return priced

    def _workspace_policy(self, workspace_id: uuid.UUID) -> str:
        with self._sessions() as session:
            workspace = WorkspaceRepository(session).get(workspace_id)
        return workspace.unpriced_policy if workspace is not None else BLOCK_UNPRICED

    @staticmethod
    def _candidate_price(
        call: ExecuteCall,
        candidate: Candidate,
        priced: PricedAs,
        cap_price: PriceRow,
        sizes: dict[tuple[str, str], tuple[int, int]],
    ) -> CandidatePrice:
        """(prompt tokens, output cap) this call is reserved for on ``candidate``: the operation's own
        estimate for /v1/messages and /v1/embeddings, else the one request estimator
        (``pricing.tokens.size_request``); the output cap is the one sent upstream (set by the
        first candidate's model maximum), the same for every candidate."""
        key = (candidate.provider, candidate.model)
        if key not in sizes:
            if call.operation is not None:
                max_out = call.operation.max_output_tokens()
                if not isinstance(max_out, int):
                    max_out = cap_price.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS
                sizes[key] = (call.operation.prompt_tokens(candidate), max_out)
            else:
                size = size_request(candidate.provider, candidate.model, call.body, cap_price.max_output_tokens)
                sizes[key] = (size.prompt_tokens, size.output_tokens)
        prompt, output = sizes[key]
        worst = worst_case_cost(prompt, output, priced.price)
        return CandidatePrice(candidate, priced.price, priced.estimated, prompt, output, worst)

    def _admit(self, call: ExecuteCall, priced: PricedCandidates, *, allow_downgrade: bool) -> Admission:
        """Reserve the dearest candidate's worst case on every budget matching the call (budgets
        match the requested, first candidate)."""
        first, dearest = priced.first.candidate, priced.dearest
        context = SpendContext(
            workspace_id=call.workspace_id,
            key_id=call.key_id,
            provider=first.provider,
            model=first.model,
            workflow=call.attribution.workflow,
            agent=call.attribution.agent,
            request_id=call.request_id,
            user=call.attribution.user,
            prompt_tokens=dearest.prompt_tokens,
            output_tokens=dearest.output_tokens,
        )
        return self._budgets.admit(context, dearest.worst_case_usd, allow_downgrade=allow_downgrade)
