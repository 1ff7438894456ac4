"""Cost = normalized usage × a price row, in Decimal, with the price row's id for the audit trail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tollgate.money import ONE_MILLION, ZERO, quantize_usd
from tollgate.providers.base import Usage


@dataclass(frozen=True)
class PriceRow:
    """USD per 1M tokens. ``None`` for a class means 'billed at the input (or output) rate'."""

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
    max_output_tokens: int | None = None
    max_input_tokens: int | None = None
    effective_from: datetime | None = None


@dataclass(frozen=True)
class Rates:
    input: Decimal
    output: Decimal
    cache_read: Decimal
    cache_write: Decimal
    cache_write_1h: Decimal
    reasoning: Decimal


def rates_for(price: PriceRow, prompt_tokens: int) -> Rates:
    """The per-1M rates that apply to a call with ``prompt_tokens`` of context (tiers by prompt size)."""
    above = price.tier_threshold_tokens is not None and prompt_tokens > price.tier_threshold_tokens
    input_rate = price.input_above_tier_per_1m if above and price.input_above_tier_per_1m is not None else None
    output_rate = price.output_above_tier_per_1m if above and price.output_above_tier_per_1m is not None else None
    input_rate = input_rate if input_rate is not None else price.input_per_1m
    output_rate = output_rate if output_rate is not None else price.output_per_1m
    cache_read = price.cache_read_above_tier_per_1m if above else None
    if cache_read is None:
        cache_read = price.cache_read_per_1m if price.cache_read_per_1m is not None else input_rate
    cache_write = price.cache_write_per_1m if price.cache_write_per_1m is not None else input_rate
    cache_write_1h = price.cache_write_1h_per_1m if price.cache_write_1h_per_1m is not None else cache_write
    reasoning = price.reasoning_per_1m if price.reasoning_per_1m is not None else output_rate
    return Rates(input_rate, output_rate, cache_read, cache_write, cache_write_1h, reasoning)


def cost_of(usage: Usage, price: PriceRow) -> Decimal:
    """Exact Decimal cost of one call. Reasoning tokens are inside ``output_tokens`` and billed at
    the reasoning rate only when the price row has one (never counted twice)."""
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


def worst_case_cost(prompt_tokens: int, max_output_tokens: int, price: PriceRow) -> Decimal:
    """The most a call can cost: all input uncached, every output token at the dearest output rate."""
    rates = rates_for(price, prompt_tokens)
    output_rate = max(rates.output, rates.reasoning)
    input_rate = max(rates.input, rates.cache_write, rates.cache_write_1h)
    return quantize_usd((prompt_tokens * input_rate + max_output_tokens * output_rate) / ONE_MILLION)
