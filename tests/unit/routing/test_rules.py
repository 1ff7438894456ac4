"""Rule matching, first-match order, the revalidating cache, and the planner's ordering."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Sequence
from decimal import Decimal

import pytest

from tollgate.execution.attribution import Attribution
from tollgate.execution.resolver import ModelResolver
from tollgate.pricing.calculator import PriceRow
from tollgate.providers.base import ProviderTarget
from tollgate.routing.cache import CachedRules
from tollgate.routing.planner import RoutingBlocked, RoutingPlanner
from tollgate.routing.rules import ActionType, RequestFacts, RoutingRule, RuleAction, RuleMatch, RuleSet

WS = uuid.uuid4()


def rule(
    name: str, priority: int, match: RuleMatch, action: RuleAction | None = None, active: bool = True
) -> RoutingRule:
    return RoutingRule(
        uuid.uuid4(), name, priority, active, match, action or RuleAction(ActionType.ROUTE, ("openai/gpt-4o-mini",))
    )


def test_conditions_all_must_hold() -> None:
    key = uuid.uuid4()
    r = rule("r", 1, RuleMatch(model="openai/gpt-4o*", workflow="wf", tags=("a", "b"), key_id=key))
    rules = RuleSet([r])
    good = RequestFacts("OpenAI/GPT-4o-mini", "wf", None, frozenset({"a", "b", "c"}), key)
    assert rules.first_match(good) is r
    assert rules.first_match(RequestFacts("openai/gpt-4o", "wf", None, frozenset({"a"}), key)) is None
    assert rules.first_match(RequestFacts("openai/gpt-4o", "other", None, frozenset({"a", "b"}), key)) is None
    assert rules.first_match(RequestFacts("anthropic/x", "wf", None, frozenset({"a", "b"}), key)) is None
    assert rules.first_match(RequestFacts("openai/gpt-4o", "wf", None, frozenset({"a", "b"}), None)) is None


def test_lowest_priority_active_rule_wins() -> None:
    everything = RuleMatch()
    late, early, inactive = (
        rule("late", 10, everything),
        rule("early", 5, everything),
        rule("off", 1, everything, active=False),
    )
    rules = RuleSet([late, inactive, early])
    assert rules.first_match(RequestFacts("any")) is early
    assert len(rules) == 2


class Store:
    def __init__(self, rules: list[RoutingRule]) -> None:
        self.rules = rules
        self.version = 1
        self.loads = 0

    def stamp(self, workspace_id: uuid.UUID) -> Hashable:
        return self.version

    def load(self, workspace_id: uuid.UUID) -> Sequence[RoutingRule]:
        self.loads += 1
        return list(self.rules)


def test_cache_revalidates_after_the_interval_and_reloads_only_on_change() -> None:
    now = [0.0]
    store = Store([rule("a", 1, RuleMatch())])
    cache = CachedRules(store, check_every_s=2.0, monotonic=lambda: now[0])
    assert len(cache.rules_for(WS)) == 1 and store.loads == 1
    now[0] = 3.0
    cache.rules_for(WS)
    assert store.loads == 1  # same stamp: no reload
    store.rules.append(rule("b", 2, RuleMatch()))
    store.version = 2
    now[0] = 4.0
    assert len(cache.rules_for(WS)) == 1  # within the interval: still the cached set
    now[0] = 5.1
    assert len(cache.rules_for(WS)) == 2 and store.loads == 2


class Credentials:
    def targets_for(
        self, workspace_id: uuid.UUID, provider: str | None, name: str | None = None
    ) -> list[ProviderTarget]:
        if provider in ("openai", "anthropic"):
            return [ProviderTarget(provider=provider, base_url="https://x", api_key="k", credential_id=uuid.uuid4())]
        return []


def price(provider: str, model: str, inp: str, out: str) -> PriceRow:
    return PriceRow(uuid.uuid4(), provider, model, "test", Decimal(inp), Decimal(out))


class Prices:
    table = {
        ("openai", "gpt-4o"): price("openai", "gpt-4o", "2.5", "10"),
        ("openai", "gpt-4o-mini"): price("openai", "gpt-4o-mini", "0.15", "0.6"),
        ("anthropic", "claude-sonnet-4-5"): price("anthropic", "claude-sonnet-4-5", "3", "15"),
    }

    def current(self, provider: str, model: str, workspace_id: uuid.UUID | None = None) -> PriceRow | None:
        return self.table.get((provider, model))


def planner_with(*rules: RoutingRule) -> RoutingPlanner:
    store = Store(list(rules))
    resolver = ModelResolver(Credentials(), frozenset({"openai", "anthropic", "gemini"}))
    return RoutingPlanner(CachedRules(store), resolver, Prices())


BODY = {"model": "smart", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 100}


def test_cheapest_orders_by_estimated_cost_and_reserves_for_the_dearest() -> None:
    targets = ("anthropic/claude-sonnet-4-5", "gemini/gemini-2.0-flash", "openai/gpt-4o", "openai/gpt-4o-mini")
    r = rule("cheap", 1, RuleMatch(model="smart"), RuleAction(ActionType.CHEAPEST, targets))
    routing = planner_with(r).decide(WS, BODY, Attribution(), None)
    assert routing is not None and routing.rule_id == r.id
    assert [t.model for t in routing.targets] == [
        "openai/gpt-4o-mini",
        "openai/gpt-4o",
        "anthropic/claude-sonnet-4-5",
        "gemini/gemini-2.0-flash",  # no credential: kept for explain, contributes no candidate
    ]
    assert [c.model for c in routing.candidates] == ["gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5"]
    assert routing.reserve_price is Prices.table[("anthropic", "claude-sonnet-4-5")]
    costs = [t.estimated_cost for t in routing.targets[:3]]
    assert costs == sorted(c for c in costs if c is not None)


def test_route_keeps_rule_order_and_block_raises() -> None:
    route = rule("r", 2, RuleMatch(), RuleAction(ActionType.ROUTE, ("openai/gpt-4o", "openai/gpt-4o-mini")))
    block = rule("b", 1, RuleMatch(workflow="banned"), RuleAction(ActionType.BLOCK, (), "no"))
    planner = planner_with(route, block)
    routing = planner.decide(WS, BODY, Attribution(), None)
    assert routing is not None and [c.model for c in routing.candidates] == ["gpt-4o", "gpt-4o-mini"]
    with pytest.raises(RoutingBlocked) as raised:
        planner.decide(WS, BODY, Attribution(workflow="banned"), None)
    assert (
        raised.value.code == "routing_blocked" and raised.value.http_status == 403 and raised.value.rule_id == block.id
    )


def test_no_match_keeps_default_resolution() -> None:
    planner = planner_with(rule("r", 1, RuleMatch(agent="x")))
    assert planner.decide(WS, BODY, Attribution(), None) is None
