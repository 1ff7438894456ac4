"""From a request to the candidates a routing rule chose, with prices and estimated costs.

- No active rule matches: ``decide`` returns None and the requested model resolves as before.
- ``block``: raises ``RoutingBlocked`` (403 ``permission_error``, code ``routing_blocked``).
- ``route``: the targets in the rule's order; each target's credentials are failover candidates.
- ``cheapest``: the priced targets by worst-case cost for this request (estimated prompt tokens
  plus ``max_tokens``, or the model's output cap, at current prices), cheapest first; unpriced
  targets last, in rule order.

A target without an active credential is skipped; if none can be served the first target's
resolution error is raised. ``reserve_price`` is the price of the dearest priced candidate, so a
budget reservation covers whichever candidate ends up serving the call.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from tollgate.errors import PermissionDenied, TollgateError
from tollgate.execution.attribution import Attribution
from tollgate.execution.resolver import Candidate, ModelResolver
from tollgate.pricing.calculator import PriceRow, worst_case_cost
from tollgate.pricing.tokens import DEFAULT_MAX_OUTPUT_TOKENS, estimate_prompt_tokens
from tollgate.routing.rules import ActionType, RequestFacts, RoutingRule, RuleSet


class RoutingBlocked(PermissionDenied):
    """403 ``permission_error``, code ``routing_blocked``; the message is the rule's."""

    default_code = "routing_blocked"

    def __init__(self, message: str, rule_id: uuid.UUID) -> None:
        super().__init__(message)
        self.rule_id = rule_id


class RuleSource(Protocol):
    def rules_for(self, workspace_id: uuid.UUID) -> RuleSet: ...


class PriceLookup(Protocol):
    def current(self, provider: str, model: str, workspace_id: uuid.UUID | None = None) -> PriceRow | None: ...


@dataclass(frozen=True)
class RoutedTarget:
    """One ``provider/model`` target of a rule (or the requested model when no rule matched)."""

    model: str
    candidates: tuple[Candidate, ...]
    price: PriceRow | None
    estimated_cost: Decimal | None  # worst case for this request, USD; None when unpriced
    error: str | None = None  # why it cannot be served (no credential, unknown provider)


@dataclass(frozen=True)
class Routing:
    rule: RoutingRule
    targets: tuple[RoutedTarget, ...]  # in the order they will be tried

    @property
    def rule_id(self) -> uuid.UUID:
        return self.rule.id

    @property
    def candidates(self) -> list[Candidate]:
        return [c for t in self.targets for c in t.candidates]

    @property
    def reserve_price(self) -> PriceRow | None:
        """The price of the dearest servable, priced target (what a reservation must cover)."""
        priced = [t for t in self.targets if t.candidates and t.price is not None and t.estimated_cost is not None]
        if not priced:
            return None
        return max(priced, key=lambda t: t.estimated_cost or Decimal(0)).price


def facts_of(body: Mapping[str, Any], attribution: Attribution, key_id: uuid.UUID | None) -> RequestFacts:
    return RequestFacts(
        model=str(body.get("model") or ""),
        workflow=attribution.workflow,
        agent=attribution.agent,
        tags=frozenset(attribution.tags),
        key_id=key_id,
    )


def max_output_of(body: Mapping[str, Any], price: PriceRow | None) -> int:
    max_out = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(max_out, int) and not isinstance(max_out, bool) and max_out > 0:
        return max_out
    return (price.max_output_tokens if price else None) or DEFAULT_MAX_OUTPUT_TOKENS


class RoutingPlanner:
    def __init__(self, rules: RuleSource, resolver: ModelResolver, prices: PriceLookup) -> None:
        self._rules = rules
        self._resolver = resolver
        self._prices = prices

    def match(self, workspace_id: uuid.UUID, facts: RequestFacts) -> RoutingRule | None:
        rules = self._rules.rules_for(workspace_id)
        return rules.first_match(facts) if len(rules) else None

    def decide(
        self, workspace_id: uuid.UUID, body: Mapping[str, Any], attribution: Attribution, key_id: uuid.UUID | None
    ) -> Routing | None:
        """The rule's candidates for this call, None when no rule matches. Raises ``RoutingBlocked``
        for a block rule and the resolver's ``InvalidRequest`` when no target can be served."""
        rule = self.match(workspace_id, facts_of(body, attribution, key_id))
        if rule is None:
            return None
        if rule.action.type is ActionType.BLOCK:
            raise RoutingBlocked(rule.action.message or f"Blocked by routing rule '{rule.name}'", rule.id)
        routing = Routing(rule, self.targets(workspace_id, rule, body))
        if not routing.candidates:
            self._resolver.resolve(workspace_id, rule.action.targets[0])  # raises the resolution error
        return routing

    def targets(self, workspace_id: uuid.UUID, rule: RoutingRule, body: Mapping[str, Any]) -> tuple[RoutedTarget, ...]:
        prompt_tokens: int | None = None
        out: list[RoutedTarget] = []
        for model in rule.action.targets:
            try:
                candidates = tuple(self._resolver.resolve(workspace_id, model))
            except TollgateError as exc:
                out.append(RoutedTarget(model, (), None, None, error=exc.code))
                continue
            first = candidates[0]
            price = self._prices.current(first.provider, first.model, workspace_id)
            cost = None
            if price is not None:
                if prompt_tokens is None:
                    prompt_tokens = estimate_prompt_tokens(first.provider, first.model, body)
                cost = worst_case_cost(prompt_tokens, max_output_of(body, price), price)
            out.append(RoutedTarget(model, candidates, price, cost))
        if rule.action.type is ActionType.CHEAPEST:
            out.sort(key=lambda t: (t.estimated_cost is None, t.estimated_cost or Decimal(0)))
        return tuple(out)

    def default_target(self, workspace_id: uuid.UUID, body: Mapping[str, Any]) -> RoutedTarget:
        """The requested model as today's resolution serves it (for explain when no rule matches)."""
        model = str(body.get("model") or "")
        try:
            candidates = tuple(self._resolver.resolve(workspace_id, model))
        except TollgateError as exc:
            return RoutedTarget(model, (), None, None, error=exc.code)
        first = candidates[0]
        price = self._prices.current(first.provider, first.model, workspace_id)
        cost = None
        if price is not None:
            prompt = estimate_prompt_tokens(first.provider, first.model, body)
            cost = worst_case_cost(prompt, max_output_of(body, price), price)
        return RoutedTarget(model, candidates, price, cost)
