"""LiteLLM's ``model_prices_and_context_window.json``: USD per token → our rows (USD per 1M).

Mapping: ``litellm_provider`` is renamed for the providers Tollgate calls itself
(``text-completion-openai`` → ``openai``); every other LiteLLM provider (bedrock, vertex_ai-*,
azure, ...) keeps its LiteLLM name so the whole map is stored. The model id is the key without a
leading ``<provider>/``. When two keys map to the same (provider, model) the prefixed key wins
(it is the one LiteLLM routes by). Only the standard service tier is stored (no batch/flex/priority).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tollgate.pricing.calculator import PriceRow
from tollgate.pricing.feeds import InvalidPrice, ParsedFeed, per_1m, positive_int
from tollgate.providers.registry import litellm_provider_names

SOURCE = "litellm"
SKIP_KEYS = frozenset({"sample_spec", "fallback_generalizations"})
PROVIDER_NAMES = litellm_provider_names()  # the registry's ``litellm_providers``
_TIER = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")

# Our column ← LiteLLM field(s), first present wins.
_BASE_FIELDS: dict[str, tuple[str, ...]] = {
    "input_per_1m": ("input_cost_per_token",),
    "output_per_1m": ("output_cost_per_token",),
    "cache_read_per_1m": ("cache_read_input_token_cost", "input_cost_per_token_cache_hit"),
    "cache_write_per_1m": ("cache_creation_input_token_cost",),
    "cache_write_1h_per_1m": ("cache_creation_input_token_cost_above_1hr",),
    "reasoning_per_1m": ("output_cost_per_reasoning_token",),
}
_TIER_FIELDS: dict[str, str] = {
    "input_above_tier_per_1m": "input_cost_per_token_above_{k}k_tokens",
    "output_above_tier_per_1m": "output_cost_per_token_above_{k}k_tokens",
    "cache_read_above_tier_per_1m": "cache_read_input_token_cost_above_{k}k_tokens",
    "cache_write_above_tier_per_1m": "cache_creation_input_token_cost_above_{k}k_tokens",
    "cache_write_1h_above_tier_per_1m": "cache_creation_input_token_cost_above_1hr_above_{k}k_tokens",
}
# Every LiteLLM field this parser reads (the snapshot builder keeps only these).
USED_FIELDS = frozenset(
    {"litellm_provider", "max_input_tokens", "max_output_tokens", "max_tokens"}
    | {name for names in _BASE_FIELDS.values() for name in names}
)


def is_used_field(name: str) -> bool:
    return name in USED_FIELDS or any(
        re.fullmatch(pattern.replace("{k}", r"\d+"), name) for pattern in _TIER_FIELDS.values()
    )


def map_key(key: str, litellm_provider: str) -> tuple[str, str]:
    provider = PROVIDER_NAMES.get(litellm_provider, litellm_provider)
    for prefix in (f"{litellm_provider}/", f"{provider}/"):
        if key.startswith(prefix):
            return provider, key.removeprefix(prefix)
    return provider, key


def _rate(entry: dict[str, Any], name: str) -> Decimal | None:
    value = entry.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidPrice(f"{name} is not a number")
    return per_1m(name, Decimal(value))


def _int(entry: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = positive_int(entry.get(name))
        if value is not None:
            return value
    return None


def _tier_threshold(entry: dict[str, Any]) -> int | None:
    """The lowest long-context tier the entry prices (one map entry has two; we keep the lower)."""
    thresholds = [int(m.group(1)) for name in entry if (m := _TIER.match(name))]
    return min(thresholds) if thresholds else None


def to_price_row(key: str, entry: dict[str, Any]) -> PriceRow | None:
    """The row for one entry, or None when the entry is not priced per token.

    Raises ``InvalidPrice`` for a negative or non-numeric price (``parse_litellm`` lists the entry as invalid)."""
    if "input_cost_per_token" not in entry or "output_cost_per_token" not in entry:
        return None
    provider, model = map_key(key, str(entry["litellm_provider"]))
    values: dict[str, Any] = {}
    for column, names in _BASE_FIELDS.items():
        values[column] = next((r for n in names if (r := _rate(entry, n)) is not None), None)
    if values["input_per_1m"] is None or values["output_per_1m"] is None:
        raise InvalidPrice("input/output cost is null")
    threshold = _tier_threshold(entry)
    if threshold is not None:
        values["tier_threshold_tokens"] = threshold * 1000
        for column, pattern in _TIER_FIELDS.items():
            values[column] = _rate(entry, pattern.format(k=threshold))
    return PriceRow(
        id=None,
        provider=provider,
        model=model,
        source=SOURCE,
        max_output_tokens=_int(entry, "max_output_tokens", "max_tokens"),
        max_input_tokens=_int(entry, "max_input_tokens"),
        **values,
    )


def parse_litellm(document: Any, version: str) -> ParsedFeed:
    feed = ParsedFeed(source=SOURCE, version=version)
    if not isinstance(document, dict):
        feed.invalid.append("document is not a JSON object")
        return feed
    chosen: dict[tuple[str, str], tuple[bool, PriceRow]] = {}
    for key, entry in document.items():
        if key in SKIP_KEYS:
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("litellm_provider"), str):
            feed.skipped += 1
            continue
        try:
            row = to_price_row(key, entry)
        except InvalidPrice as exc:
            feed.invalid.append(f"{key}: {exc}")
            continue
        if row is None:
            feed.skipped += 1
            continue
        prefixed = "/" in key and key.split("/", 1)[0] in {entry["litellm_provider"], row.provider}
        ident = (row.provider, row.model)
        if ident in chosen:
            feed.duplicates += 1
            if chosen[ident][0] and not prefixed:
                continue
        chosen[ident] = (prefixed, row)
    feed.prices = [row for _, row in chosen.values()]
    return feed
