"""The one budget scope table: per scope, how its value is validated and normalized, how it
matches a request, and which usage rows it covers.

Adding a scope is one ``ScopeRule`` entry here (plus its ``Scope`` enum member); every reader
(``BudgetView.matches``, budget create/update validation, history and the initial spend of a new
budget) goes through ``rule_for``, which fails loudly on a scope without a rule.

Value rules (a value that could never match a request is a 400 naming ``body.scope_value``):

* ``workspace``: no value.
* ``key``: a gateway key id — a valid UUID, stored lower-case in canonical form, and the key must
  exist in the caller's workspace.
* ``provider``: a provider name Tollgate knows (lower-cased).
* ``model``: ``provider/model`` (the provider must be known; the model id is kept as given) or a
  bare model id; one exact id, never a glob (``*``, ``?`` or ``[``: the scope matches by equality).
* ``workflow`` / ``agent`` / ``user``: trimmed like the attribution labels of a request are, at most
  ``MAX_LABEL`` characters, no control characters.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from tollgate.budgets.guard import SpendContext
from tollgate.errors import InvalidRequest
from tollgate.providers.registry import unknown_provider_message


class Scope(StrEnum):
    WORKSPACE = "workspace"
    KEY = "key"
    PROVIDER = "provider"
    MODEL = "model"
    WORKFLOW = "workflow"
    AGENT = "agent"
    USER = "user"  # the caller's end user: OpenAI body field `user` or header X-Tollgate-User


MAX_LABEL = 200  # the longest workflow/agent label a request can carry (execution.attribution)
FIELD = "body.scope_value"
GLOB_CHARACTERS = frozenset("*?[")


class ScopeCheck(Protocol):
    """What validation needs to know about the caller's workspace."""

    @property
    def known_providers(self) -> frozenset[str]: ...

    def key_exists(self, key_id: uuid.UUID) -> bool: ...


@dataclass(frozen=True)
class ScopeRule:
    """``normalize(value, check)`` → the stored value (raises ``InvalidRequest``);
    ``matches(value, context)`` → whether a request is in scope; ``usage(value)`` → the
    ``(column name, value)`` pairs a usage row must equal (``key_id`` given as a UUID), or None when
    usage rows do not keep the scope's value (``user``)."""

    scope: Scope
    needs_value: bool
    normalize: Callable[[str, ScopeCheck], str]
    matches: Callable[[str | None, SpendContext], bool]
    usage: Callable[[str], list[tuple[str, Any]] | None]


def _invalid(message: str) -> InvalidRequest:
    return InvalidRequest(f"{FIELD}: {message}", code="validation_error")


def _key(value: str, check: ScopeCheck) -> str:
    try:
        key_id = uuid.UUID(value.strip())
    except ValueError:
        raise _invalid("a key scope takes a gateway key id (a UUID)") from None
    if not check.key_exists(key_id):
        raise _invalid(f"no key {key_id} in this workspace; the budget could never match")
    return str(key_id)


def _provider(value: str, check: ScopeCheck) -> str:
    name = value.strip().lower()
    if name not in check.known_providers:
        raise _invalid(unknown_provider_message(value.strip(), check.known_providers))
    return name


def _model(value: str, check: ScopeCheck) -> str:
    text = value.strip()
    if not text or any(ch.isspace() for ch in text):
        raise _invalid("a model id has no spaces")
    if any(ch in GLOB_CHARACTERS for ch in text):  # matched by equality: a pattern would never match
        raise _invalid("a model scope takes one exact model id, not a pattern (no *, ? or [)")
    provider, sep, model = text.partition("/")
    if sep and not model:
        raise _invalid("give provider/model or a bare model id")
    if sep and provider.startswith("custom:"):
        return f"custom/{model}"
    if sep and provider.lower() in check.known_providers:
        return f"{provider.lower()}/{model}"
    return text  # a bare id (which may itself contain "/", e.g. an OpenRouter slug)


def _label(value: str, check: ScopeCheck) -> str:
    text = value.strip()
    if not text:
        raise _invalid("must not be blank")
    if len(text) > MAX_LABEL:
        raise _invalid(f"labels are at most {MAX_LABEL} characters; a longer one could never match")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise _invalid("must not contain control characters")
    return text


def _no_value(value: str, check: ScopeCheck) -> str:
    raise _invalid("must be empty for scope workspace")


def _model_matches(value: str | None, context: SpendContext) -> bool:
    return value in (context.model, f"{context.provider}/{context.model}")


def _model_usage(value: str) -> list[tuple[str, Any]]:
    provider, sep, model = value.partition("/")
    if sep and provider:
        return [("provider", provider), ("model", model)]
    return [("model", value)]


_RULES = (
    ScopeRule(Scope.WORKSPACE, False, _no_value, lambda v, c: True, lambda v: []),
    ScopeRule(
        Scope.KEY,
        True,
        _key,
        lambda v, c: c.key_id is not None and v == str(c.key_id),
        lambda v: [("key_id", uuid.UUID(v))],
    ),
    ScopeRule(Scope.PROVIDER, True, _provider, lambda v, c: v == c.provider, lambda v: [("provider", v)]),
    ScopeRule(Scope.MODEL, True, _model, _model_matches, _model_usage),
    ScopeRule(Scope.WORKFLOW, True, _label, lambda v, c: v == c.workflow, lambda v: [("workflow", v)]),
    ScopeRule(Scope.AGENT, True, _label, lambda v, c: v == c.agent, lambda v: [("agent", v)]),
    ScopeRule(Scope.USER, True, _label, lambda v, c: v == c.user, lambda v: None),
)
SCOPE_RULES: dict[Scope, ScopeRule] = {rule.scope: rule for rule in _RULES}
if set(SCOPE_RULES) != set(Scope):  # a scope without a rule must not import, let alone fall through
    raise RuntimeError(f"budget scopes without a rule: {sorted(set(Scope) - set(SCOPE_RULES))}")


def rule_for(scope: Scope | str) -> ScopeRule:
    """The rule of ``scope``. Raises ``LookupError`` for a scope without a rule (never falls through)."""
    try:
        return SCOPE_RULES[Scope(scope)]
    except (ValueError, KeyError):
        raise LookupError(f"budget scope {scope!r} has no rule in budgets.scopes") from None


def normalize_scope_value(scope: Scope, value: str | None, check: ScopeCheck) -> str | None:
    """The stored form of ``value`` for ``scope``. Raises ``InvalidRequest`` naming ``body.scope_value``."""
    rule = rule_for(scope)
    if not rule.needs_value:
        if value:
            rule.normalize(value, check)
        return None
    if value is None or not value.strip():
        raise _invalid(f"required for scope {scope.value}")
    return rule.normalize(value, check)
