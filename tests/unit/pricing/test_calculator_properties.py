"""Properties of the calculator over random usage (Hypothesis): exact, additive, never below zero,
and never above the worst case a budget reserves for the same prompt and output."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from tollgate.pricing.calculator import PriceRow, computed_cost, worst_case_cost
from tollgate.providers.base import Usage

rates = st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False, allow_infinity=False)
tokens = st.integers(min_value=0, max_value=2_000_000)


@st.composite
def price_rows(draw: st.DrawFn) -> PriceRow:
    tiered = draw(st.booleans())
    return PriceRow(
        None,
        "p",
        "m",
        "manual",
        draw(rates),
        draw(rates),
        cache_read_per_1m=draw(st.none() | rates),
        cache_write_per_1m=draw(st.none() | rates),
        cache_write_1h_per_1m=draw(st.none() | rates),
        reasoning_per_1m=draw(st.none() | rates),
        tier_threshold_tokens=200_000 if tiered else None,
        input_above_tier_per_1m=draw(rates) if tiered else None,
        output_above_tier_per_1m=draw(rates) if tiered else None,
    )


@st.composite
def usages(draw: st.DrawFn) -> Usage:
    write = draw(tokens)
    output = draw(tokens)
    return Usage(
        input_tokens=draw(tokens),
        cache_read_tokens=draw(tokens),
        cache_write_tokens=write,
        cache_write_1h_tokens=draw(st.integers(0, write)),
        output_tokens=output,
        reasoning_tokens=draw(st.integers(0, output)),
    )


@given(price_rows(), usages())
def test_cost_is_non_negative_and_within_the_worst_case(price: PriceRow, usage: Usage) -> None:
    cost = computed_cost(usage, price)
    assert cost >= 0
    assert cost <= worst_case_cost(usage.prompt_tokens * 2, usage.output_tokens, price)


@given(price_rows(), tokens, tokens)
def test_plain_input_and_output_add_up_exactly(price: PriceRow, prompt: int, output: int) -> None:
    if price.tier_threshold_tokens is not None:
        prompt = min(prompt, price.tier_threshold_tokens)
    both = computed_cost(Usage(input_tokens=prompt, output_tokens=output), price)
    expected = (Decimal(prompt) * price.input_per_1m + Decimal(output) * price.output_per_1m) / Decimal(10**6)
    assert both == expected
