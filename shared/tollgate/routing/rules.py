"""Routing rules as values: what a rule matches, what it does, and first-match evaluation.

A rule is ``{name, priority (int, lower first), is_active, match, action}``. ``match`` holds
optional conditions that must all hold: ``model`` (a case-insensitive glob on the requested
model, ``*`` and ``?``), ``workflow`` and ``agent`` (exact), ``tags`` (every listed tag present on
the request) and ``key_id`` (the calling gateway key). An empty match matches every request.
``action`` is ``route`` / ``cheapest`` (ordered ``provider/model`` targets) or ``block`` (a message).

Evaluation is pure and allocation-free per rule: globs are compiled once when the rule set is
loaded, and the cheap equality checks run before the glob (200 rules ≤ 0.2 ms p50, see
tests/bench/bench_guardrails_routing.py).
"""

from __future__ import annotations

import fnmatch
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class ActionType(StrEnum):
    ROUTE = "route"
    CHEAPEST = "cheapest"
    BLOCK = "block"


@dataclass(frozen=True)
class RuleMatch:
    model: str | None = None
    workflow: str | None = None
    agent: str | None = None
    tags: tuple[str, ...] = ()
    key_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RuleAction:
    type: ActionType
    targets: tuple[str, ...] = ()
    message: str | None = None


@dataclass(frozen=True)
class RoutingRule:
    id: uuid.UUID
    name: str
    priority: int
    is_active: bool
    match: RuleMatch
    action: RuleAction


@dataclass(frozen=True)
class RequestFacts:
    """What a rule can look at: the requested model and the call's attribution."""

    model: str
    workflow: str | None = None
    agent: str | None = None
    tags: frozenset[str] = frozenset()
    key_id: uuid.UUID | None = None


@dataclass(frozen=True)
class _Compiled:
    rule: RoutingRule
    model: re.Pattern[str] | None
    tags: frozenset[str] = field(default_factory=frozenset)

    def matches(self, facts: RequestFacts) -> bool:
        m = self.rule.match
        if m.workflow is not None and m.workflow != facts.workflow:
            return False
        if m.agent is not None and m.agent != facts.agent:
            return False
        if m.key_id is not None and m.key_id != facts.key_id:
            return False
        if self.tags and not self.tags <= facts.tags:
            return False
        return self.model is None or self.model.match(facts.model) is not None


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A case-insensitive, anchored regex for a model glob (``openai/gpt-4o*``, ``*mini*``)."""
    return re.compile(fnmatch.translate(pattern), re.IGNORECASE)


class RuleSet:
    """A workspace's active rules, sorted by (priority, name, id) and compiled once."""

    def __init__(self, rules: Iterable[RoutingRule]) -> None:
        active = sorted((r for r in rules if r.is_active), key=lambda r: (r.priority, r.name, str(r.id)))
        self._compiled: Sequence[_Compiled] = tuple(
            _Compiled(r, compile_glob(r.match.model) if r.match.model else None, frozenset(r.match.tags))
            for r in active
        )

    def __len__(self) -> int:
        return len(self._compiled)

    def first_match(self, facts: RequestFacts) -> RoutingRule | None:
        """The first active rule (lowest priority number) whose every condition holds, else None."""
        for compiled in self._compiled:
            if compiled.matches(facts):
                return compiled.rule
        return None


EMPTY_RULES = RuleSet(())
