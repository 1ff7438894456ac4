"""A workspace's guardrail policy: one action per detector, and whether responses are scanned.

Actions, mildest first: ``off`` (not run), ``warn`` (forwarded; response header
``x-tollgate-guardrail``), ``redact`` (the span becomes ``[REDACTED:<detector>]`` before
forwarding), ``block`` (400 ``guardrail_blocked`` before any provider is called). The default is
every detector ``off`` except ``secrets: warn``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class GuardAction(StrEnum):
    OFF = "off"
    WARN = "warn"
    REDACT = "redact"
    BLOCK = "block"


DETECTORS: tuple[str, ...] = ("secrets", "pii_email", "pii_phone", "pii_card", "pii_iban", "prompt_injection")
DEFAULT_ACTIONS: Mapping[str, GuardAction] = dict.fromkeys(DETECTORS, GuardAction.OFF) | {"secrets": GuardAction.WARN}


@dataclass(frozen=True)
class GuardrailPolicy:
    actions: Mapping[str, GuardAction] = field(default_factory=lambda: dict(DEFAULT_ACTIONS))
    scan_responses: bool = False

    @property
    def active(self) -> dict[str, GuardAction]:
        """Detectors that run, with their action."""
        return {name: action for name, action in self.actions.items() if action is not GuardAction.OFF}

    def to_json_actions(self) -> dict[str, GuardAction]:
        """Every detector, in the documented order, with its action."""
        return {name: self.actions[name] for name in DETECTORS}

    def to_json(self) -> dict[str, Any]:
        return {
            "detectors": {name: {"action": self.actions[name].value} for name in DETECTORS},
            "scan_responses": self.scan_responses,
        }

    @classmethod
    def from_stored(cls, detectors: Mapping[str, Any], scan_responses: bool) -> GuardrailPolicy:
        """Stored settings over the defaults (a detector added later starts at its default)."""
        actions = dict(DEFAULT_ACTIONS)
        for name, value in detectors.items():
            if name in actions and isinstance(value, Mapping) and value.get("action") in GuardAction._value2member_map_:
                actions[name] = GuardAction(value["action"])
        return cls(actions, scan_responses)


DEFAULT_POLICY = GuardrailPolicy()
