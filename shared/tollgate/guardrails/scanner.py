"""Scan a request (or a response) with a policy: find hits, redact, decide block / warn.

Every text part is scanned: a message's string ``content`` and each ``{"type": "text"}`` part of a
content list, and each string of an embeddings ``input`` (role ``input``, index = the item's
position) on a request; each choice's ``message.content`` of a chat completion, or each ``text``
block of an Anthropic ``message``, on a response. Token arrays in an embeddings ``input`` cannot be
read (``ScanResult.unscannable``). Hits carry the detector, the action taken, the role and index,
never the matched text. The body is copied only when something is redacted.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from tollgate.guardrails.injection import find_injection
from tollgate.guardrails.pii import find_cards, find_emails, find_ibans, find_phones
from tollgate.guardrails.policy import GuardAction, GuardrailPolicy
from tollgate.guardrails.secrets import find_secrets
from tollgate.guardrails.spans import Span, merge_spans, redact_spans

Detector = Callable[[str], list[Span]]

# Order matters for overlaps: secrets before cards/IBANs/phones (digits inside keys), cards
# before phones (a card number is not also a phone number).
FINDERS: dict[str, Detector] = {
    "secrets": find_secrets,
    "pii_card": find_cards,
    "pii_iban": find_ibans,
    "pii_email": find_emails,
    "pii_phone": find_phones,
    "prompt_injection": find_injection,
}
_RANK = {GuardAction.WARN: 1, GuardAction.REDACT: 2, GuardAction.BLOCK: 3}


@dataclass(frozen=True)
class Hit:
    detector: str
    action: GuardAction
    role: str
    message_index: int


@dataclass
class ScanResult:
    body: dict[str, Any]  # what to forward (a redacted copy, or the original)
    hits: list[Hit] = field(default_factory=list)
    # token arrays in an embeddings ``input`` while a detector redacts or blocks: they cannot be read,
    # so they cannot be let through under a policy that promises redaction or refusal
    unscannable: bool = False

    @property
    def blocked_by(self) -> str | None:
        """The first detector whose action is ``block``, or None."""
        return next((h.detector for h in self.hits if h.action is GuardAction.BLOCK), None)

    @property
    def warned(self) -> list[str]:
        """Detectors with a ``warn`` hit, each once, in detector order (the response header value)."""
        names = {h.detector for h in self.hits if h.action is GuardAction.WARN}
        return [name for name in FINDERS if name in names]


def find_spans(text: str, detectors: Mapping[str, GuardAction]) -> list[Span]:
    """Non-overlapping hits of the given detectors in ``text``."""
    found: list[Span] = []
    for name, finder in FINDERS.items():
        if name in detectors:
            found.extend(finder(text))
    return merge_spans(found) if len(found) > 1 else found


# (role, index, container, key): ``container[key]`` is the string (a dict and a key, or the
# embeddings ``input`` list and a position), so it can be replaced in place.
Slot = tuple[str, int, Any, Any]


def _text_slots(body: dict[str, Any], response: bool) -> Iterator[Slot]:
    """Every scannable string of ``body`` as a ``Slot``."""
    if response:
        yield from _response_slots(body)
        return
    inputs = body.get("input")
    if isinstance(inputs, list):  # /v1/embeddings (normalized to a list by the route)
        for i, item in enumerate(inputs):
            if isinstance(item, str):
                yield "input", i, inputs, i
    for i, message in enumerate(body.get("messages") or []):
        if not isinstance(message, dict):
            continue
        role = str(message.get("role") or "user")[:32]
        content = message.get("content")
        if isinstance(content, str):
            yield role, i, message, "content"
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    yield role, i, part, "text"


def _response_slots(body: dict[str, Any]) -> Iterator[Slot]:
    if body.get("type") == "message":  # Anthropic Messages: one assistant message, its text blocks
        for block in body.get("content") or []:
            if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
                yield "assistant", 0, block, "text"
        return
    for i, choice in enumerate(body.get("choices") or []):
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            yield "assistant", i, message, "content"


def has_token_arrays(body: dict[str, Any]) -> bool:
    """An embeddings ``input`` holding token arrays (lists of ints), which no detector can read."""
    inputs = body.get("input")
    return isinstance(inputs, list) and any(isinstance(item, list) for item in inputs)


def scan(body: dict[str, Any], policy: GuardrailPolicy, *, response: bool = False) -> ScanResult:
    """Hits of every active detector; ``redact`` spans replaced in a copy of ``body``."""
    active = policy.active
    if not active:
        return ScanResult(body)
    if not response and has_token_arrays(body):
        strict = any(action in (GuardAction.REDACT, GuardAction.BLOCK) for action in active.values())
        return ScanResult(body, unscannable=strict)
    hits: dict[tuple[str, str, int], Hit] = {}
    redactions: list[tuple[int, Any, list[Span]]] = []
    for slot_index, (role, index, container, key) in enumerate(_text_slots(body, response)):
        spans = find_spans(container[key], active)
        for span in spans:
            action = active[span.detector]
            hits.setdefault((span.detector, role, index), Hit(span.detector, action, role, index))
        to_redact = [s for s in spans if active[s.detector] is GuardAction.REDACT]
        if to_redact:
            redactions.append((slot_index, key, to_redact))
    if redactions:
        body = _redacted_copy(body, response, redactions)
    ordered = sorted(hits.values(), key=lambda h: (h.message_index, -_RANK[h.action]))
    return ScanResult(body, ordered)


def _redacted_copy(
    body: dict[str, Any], response: bool, redactions: list[tuple[int, Any, list[Span]]]
) -> dict[str, Any]:
    copied = copy.deepcopy(body)
    slots = list(_text_slots(copied, response))
    for slot_index, key, spans in redactions:
        container = slots[slot_index][2]
        container[key] = redact_spans(container[key], spans)
    return copied
