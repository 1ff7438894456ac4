"""The budget scope table covers every scope and fails loudly on anything else."""

from __future__ import annotations

import uuid

import pytest

from tollgate.budgets.guard import SpendContext
from tollgate.budgets.scopes import SCOPE_RULES, Scope, rule_for

CONTEXT = SpendContext(uuid.uuid4(), uuid.uuid4(), "openai", "gpt-4o", "wf", "agent-1", "req")


def test_every_scope_has_exactly_one_rule() -> None:
    assert set(SCOPE_RULES) == set(Scope)


def test_an_unknown_scope_fails_loudly() -> None:
    with pytest.raises(LookupError, match="planet"):
        rule_for("planet")


@pytest.mark.parametrize(
    ("scope", "value", "matches"),
    [
        (Scope.WORKSPACE, None, True),
        (Scope.KEY, str(CONTEXT.key_id), True),
        (Scope.KEY, str(CONTEXT.key_id).upper(), False),  # why values are normalized on write
        (Scope.PROVIDER, "openai", True),
        (Scope.MODEL, "openai/gpt-4o", True),
        (Scope.MODEL, "gpt-4o", True),
        (Scope.MODEL, "anthropic/gpt-4o", False),
        (Scope.WORKFLOW, "wf", True),
        (Scope.AGENT, "agent-2", False),
    ],
)
def test_matching(scope: Scope, value: str | None, matches: bool) -> None:
    assert rule_for(scope).matches(value, CONTEXT) is matches


def test_usage_columns() -> None:
    assert rule_for(Scope.MODEL).usage("openai/gpt-4o") == [("provider", "openai"), ("model", "gpt-4o")]
    assert rule_for(Scope.KEY).usage(str(CONTEXT.key_id)) == [("key_id", CONTEXT.key_id)]
    assert rule_for(Scope.WORKSPACE).usage("") == []
