"""The one output cap of a request: what the reservation counts and exactly what goes upstream.

Rule (docs/pricing.md "The output cap"):

1. ``max_completion_tokens`` and ``max_tokens`` are read the same way everywhere: an explicit
   ``null`` is the same as an absent field. A present value must be an integer ≥ 1 (booleans are
   not integers) — anything else is a 400 naming the field.
2. When both are given, the smaller wins (it is the stricter cost bound).
3. A request above the model's maximum output is clamped to that maximum.
4. With no request, the cap is the model's maximum output when known, else ``DEFAULT_OUTPUT_CAP``.
5. The cap is always sent upstream (``with_output_cap``), so a provider without a default of its
   own (Gemini, a custom endpoint) can never produce more than was reserved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tollgate.errors import InvalidRequest
from tollgate.providers.registry import find_provider

DEFAULT_OUTPUT_CAP = 4096
CAP_FIELDS = ("max_completion_tokens", "max_tokens")


@dataclass(frozen=True)
class OutputCap:
    """``tokens``: the cap per choice (≥ 1); ``source``: ``max_completion_tokens``, ``max_tokens``,
    ``model_max`` or ``default``; ``clamped``: the request was above the model's maximum."""

    tokens: int
    source: str
    clamped: bool = False


def requested_cap(body: Mapping[str, Any]) -> tuple[int, str] | None:
    """The caller's own cap (the smaller of the two fields, explicit null = absent), or None.

    Raises ``InvalidRequest`` naming the field when a value is not an integer ≥ 1."""
    found: list[tuple[int, str]] = []
    for name in CAP_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidRequest(f"body.{name}: must be an integer of at least 1, or null", code="validation_error")
        found.append((value, name))
    return min(found) if found else None


def output_cap(
    body: Mapping[str, Any], model_max_output: int | None, default_cap: int = DEFAULT_OUTPUT_CAP
) -> OutputCap:
    """The cap for ``body`` on a model whose maximum output is ``model_max_output`` (None: unknown)."""
    model_max = model_max_output if model_max_output and model_max_output > 0 else None
    requested = requested_cap(body)
    if requested is not None:
        tokens, source = requested
        if model_max is not None and tokens > model_max:
            return OutputCap(model_max, source, clamped=True)
        return OutputCap(tokens, source)
    if model_max is not None:
        return OutputCap(model_max, "model_max")
    return OutputCap(max(1, default_cap), "default")


def with_output_cap(body: Mapping[str, Any], cap: OutputCap) -> dict[str, Any]:
    """``body`` with exactly one cap field, ``max_completion_tokens = cap.tokens`` (the other removed).

    Every adapter reads it through ``requested_cap``; ``wire_cap_fields`` renames it for providers
    whose API takes ``max_tokens``."""
    capped = {k: v for k, v in body.items() if k not in CAP_FIELDS}
    capped["max_completion_tokens"] = cap.tokens
    return capped


def wire_cap_fields(body: Mapping[str, Any], provider: str) -> dict[str, Any]:
    """The OpenAI-compatible body for ``provider``: one cap field under the name its API takes."""
    requested = requested_cap(body)
    wired = {k: v for k, v in body.items() if k not in CAP_FIELDS}
    if requested is not None:
        spec = find_provider(provider)  # the registry's ``max_tokens_field`` (max_completion_tokens: OpenAI)
        name = spec.max_tokens_field if spec is not None else "max_tokens"
        wired[name] = requested[0]
    return wired
