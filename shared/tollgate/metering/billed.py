"""Request fields that change what the provider bills: reserved and priced, or refused.

Tollgate prices text (and image) tokens from per-token price rows. A field that makes the
provider bill something else — per-call search fees, audio tokens, premium service tiers — cannot
be priced from those rows, so it is refused with a 400 naming the field instead of being forwarded
and billed at standard text rates. Fields that only multiply text tokens are reserved for:

=====================  ==========================================================================
field                  rule
=====================  ==========================================================================
``n``                  integer 1..128; the output reservation is the cap times ``n``
``prediction``         its text counts as output (rejected prediction tokens are billed as output)
``service_tier``       ``auto``, ``default``, ``flex``, ``standard_only`` priced at standard rates (an
                       upper bound for flex); ``priority``/``scale`` and others → 400
``audio``              present (audio output) → 400
``modalities``         anything but ``["text"]`` → 400
``web_search_options`` present → 400 (per-call search fees)
``plugins``            present (OpenRouter web search and file parsers) → 400
``tools[i].type``      any type other than ``function`` (hosted tools bill per call) → 400
=====================  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tollgate.errors import InvalidRequest
from tollgate.metering.text import text_tokens

MAX_CHOICES = 128
STANDARD_TIERS = frozenset({"auto", "default", "flex", "standard_only"})
_REFUSED_PRESENT = {
    "audio": "audio output is billed at audio rates Tollgate cannot price",
    "web_search_options": "web search is billed per call at rates Tollgate cannot price",
    "plugins": "plugins are billed per call at rates Tollgate cannot price",
}


@dataclass(frozen=True)
class BilledShape:
    """``choices``: how many completions are billed (``n``); ``extra_output_tokens``: output
    billed on top of the cap per choice (predicted outputs)."""

    choices: int = 1
    extra_output_tokens: int = 0

    def output_tokens(self, cap_per_choice: int) -> int:
        """The worst-case output tokens for a cap of ``cap_per_choice`` per choice."""
        return cap_per_choice * self.choices + self.extra_output_tokens


def _refuse(field: str, why: str) -> InvalidRequest:
    return InvalidRequest(f"body.{field}: {why}", code="unsupported_billed_field")


def billed_shape(body: Mapping[str, Any]) -> BilledShape:
    """Check the billed fields of ``body``; raises ``InvalidRequest`` (400) naming the field."""
    for field, why in _REFUSED_PRESENT.items():
        if body.get(field) is not None:
            raise _refuse(field, why)
    modalities = body.get("modalities")
    if modalities is not None and (not isinstance(modalities, list) or any(m != "text" for m in modalities)):
        raise _refuse("modalities", 'only ["text"] can be priced; audio output is billed at audio rates')
    tier = body.get("service_tier")
    if tier is not None and tier not in STANDARD_TIERS:
        raise _refuse("service_tier", f"{tier!r} is billed at rates Tollgate cannot price; use auto, default or flex")
    tools = body.get("tools")
    if isinstance(tools, list):
        for index, tool in enumerate(tools):
            kind = tool.get("type", "function") if isinstance(tool, Mapping) else None
            if kind != "function":
                raise _refuse(f"tools[{index}].type", f"{kind!r} tools are billed per call; only function tools")
    choices = body.get("n")
    if choices is None:
        choices = 1
    if isinstance(choices, bool) or not isinstance(choices, int) or not 1 <= choices <= MAX_CHOICES:
        raise InvalidRequest(f"body.n: must be an integer from 1 to {MAX_CHOICES}", code="validation_error")
    return BilledShape(choices, _prediction_tokens(body.get("prediction")))


def _prediction_tokens(prediction: Any) -> int:
    if not isinstance(prediction, Mapping):
        return 0
    content = prediction.get("content")
    if isinstance(content, str):
        return text_tokens(content)
    if isinstance(content, list):
        return sum(text_tokens(str(p.get("text", ""))) for p in content if isinstance(p, Mapping))
    return 0
