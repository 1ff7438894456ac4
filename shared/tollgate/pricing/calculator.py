"""Cost = normalized usage × a price row, in Decimal, with the price row's id for the audit trail.

Rates are USD per 1M tokens. A class without its own rate is billed at the rate it falls back to
(cache read/write → input, 1-hour cache write → 5-minute cache write, reasoning → output), never 0.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal

from tollgate.money import ONE_MILLION, ZERO, quantize_usd
from tollgate.providers.base import Usage

# The price columns a refresh compares to decide whether a model's price changed.
PRICE_FIELDS = (
    "input_per_1m",
    "output_per_1m",
    "cache_read_per_1m",
    "cache_write_per_1m",
    "cache_write_1h_per_1m",
    "reasoning_per_1m",
    "tier_threshold_tokens",
    "input_above_tier_per_1m",
    "output_above_tier_per_1m",
    "cache_read_above_tier_per_1m",
    "cache_write_above_tier_per_1m",
    "cache_write_1h_above_tier_per_1m",
)

# Worst-case reservations treat a prompt this close to a tier threshold as above it, because the
# prompt size before the call is an estimate.
TIER_SAFETY_FACTOR = Decimal("1.25")


@dataclass(frozen=True)
class PriceRow:
    """USD per 1M tokens. ``None`` for a class means 'billed at the rate it falls back to'."""

    id: uuid.UUID | None
    provider: str
    model: str
    source: str
    input_per_1m: Decimal
    output_per_1m: Decimal
    cache_read_per_1m: Decimal | None = None
    cache_write_per_1m: Decimal | None = None
    cache_write_1h_per_1m: Decimal | None = None
    reasoning_per_1m: Decimal | None = None
    tier_threshold_tokens: int | None = None
    input_above_tier_per_1m: Decimal | None = None
    output_above_tier_per_1m: Decimal | None = None
    cache_read_above_tier_per_1m: Decimal | None = None
    cache_write_above_tier_per_1m: Decimal | None = None
    cache_write_1h_above_tier_per_1m: Decimal | None = None
    max_output_tokens: int | None = None
    max_input_tokens: int | None = None
    effective_from: datetime | None = None

    def prices(self) -> dict[str, Decimal | int | None]:
        """The comparable price columns (what a refresh diffs)."""
        return {name: getattr(self, name) for name in PRICE_FIELDS}

    def decimal_prices(self) -> dict[str, Decimal]:
        """Every non-null USD-per-1M rate of the row."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name.endswith("_per_1m") and getattr(self, f.name) is not None
        }


@dataclass(frozen=True)
class Rates:
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    cache_write_1h: Decimal
    reasoning: Decimal


def _first(*values: Decimal | None) -> Decimal:
    for value in values:
        if value is not None:
            return value
    raise ValueError("no rate available")


def is_above_tier(price: PriceRow, prompt_tokens: int) -> bool:
    return price.tier_threshold_tokens is not None and prompt_tokens > price.tier_threshold_tokens


def rates_for(price: PriceRow, prompt_tokens: int) -> Rates:
    """The per-1M rates that apply to a call with ``prompt_tokens`` of context. Above the tier
    threshold (LiteLLM's ``*_above_200k_tokens``) the whole call is billed at the tier's rates."""
    return _rates(price, above=is_above_tier(price, prompt_tokens))


def _rates(price: PriceRow, *, above: bool) -> Rates:
    tier = above
    input_rate = _first(price.input_above_tier_per_1m if tier else None, price.input_per_1m)
    output_rate = _first(price.output_above_tier_per_1m if tier else None, price.output_per_1m)
    cache_read = _first(price.cache_read_above_tier_per_1m if tier else None, price.cache_read_per_1m, input_rate)
    cache_write = _first(price.cache_write_above_tier_per_1m if tier else None, price.cache_write_per_1m, input_rate)
    cache_write_1h = _first(
        price.cache_write_1h_above_tier_per_1m if tier else None, price.cache_write_1h_per_1m, cache_write
    )
    reasoning = _first(price.reasoning_per_1m, output_rate)
    return Rates(input_rate, output_rate, cache_read, cache_write, cache_write_1h, reasoning)


def computed_cost(usage: Usage, price: PriceRow) -> Decimal:
    """Exact Decimal cost of one call from its token classes. Reasoning tokens are inside
    ``output_tokens`` and billed at the reasoning rate (never counted twice).

    Raises ``ValueError`` for a negative total (a corrupt price row or usage)."""
    rates = rates_for(price, usage.prompt_tokens)
    write_1h = min(usage.cache_write_1h_tokens, usage.cache_write_tokens)
    write_5m = usage.cache_write_tokens - write_1h
    reasoning = min(usage.reasoning_tokens, usage.output_tokens)
    plain_output = usage.output_tokens - reasoning
    total = (
        usage.input_tokens * rates.input
        + usage.cache_read_tokens * rates.cache_read
        + write_5m * rates.cache_write
        + write_1h * rates.cache_write_1h
        + plain_output * rates.output
        + reasoning * rates.reasoning
    )
    if total < ZERO:
        raise ValueError("negative cost: price row or usage is corrupt")
    return quantize_usd(total / ONE_MILLION)


def cost_of(usage: Usage, price: PriceRow) -> Decimal:
    """What the call cost. A provider that reports its own charge (OpenRouter's ``usage.cost``)
    is believed, since that is what the account is billed; otherwise usage × price row."""
    if usage.provider_cost_usd is not None and usage.provider_cost_usd >= ZERO:
        return quantize_usd(usage.provider_cost_usd)
    return computed_cost(usage, price)


def input_cost(prompt_tokens: int, price: PriceRow) -> Decimal:
    """The cheapest a prompt can be billed without caching: every token at the uncached rate."""
    return quantize_usd(prompt_tokens * rates_for(price, prompt_tokens).input / ONE_MILLION)


def worst_case_cost(prompt_tokens: int, max_output_tokens: int, price: PriceRow) -> Decimal:
    """The most a call can cost: all input at the dearest input-side rate (uncached, cache read or
    write — a manual price may make any of them the dearest), every output token at
    the dearest output rate, and the long-context tier whenever the estimate is near it."""
    near_tier = price.tier_threshold_tokens is not None and (
        prompt_tokens * TIER_SAFETY_FACTOR > price.tier_threshold_tokens
    )
    candidates = [_rates(price, above=False)] + ([_rates(price, above=True)] if near_tier else [])
    input_rate = max(max(r.input, r.cache_read, r.cache_write, r.cache_write_1h) for r in candidates)
    output_rate = max(max(r.output, r.reasoning) for r in candidates)
    return quantize_usd((prompt_tokens * input_rate + max_output_tokens * output_rate) / ONE_MILLION)
