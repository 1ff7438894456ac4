"""Ten representative calls priced from the real LiteLLM map, against hand-computed Decimal costs.

The rows come from parsing the committed cut of that map (tests/fixtures), so a unit mistake (per
token vs per 1M vs per 1K) anywhere between the feed and the calculator changes these numbers by
1e3-1e6 and fails.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

import pytest

from tests.pricing_data import FIXTURE_FEEDS, LITELLM
from tollgate.pricing.calculator import PriceRow, computed_cost, cost_of, input_cost, rates_for, worst_case_cost
from tollgate.pricing.feeds.litellm import parse_litellm
from tollgate.providers.base import Usage

D = Decimal


@cache
def _book() -> dict[tuple[str, str], PriceRow]:
    document = FIXTURE_FEEDS.load(LITELLM)
    return {(r.provider, r.model): r for r in parse_litellm(document, "test").prices}


def price(provider: str, model: str) -> PriceRow:
    return _book()[(provider, model)]


CASES = [
    pytest.param(
        # OpenAI: 10,000 prompt tokens of which 4,000 cached → 6,000 uncached at $2.50, 4,000 at $1.25
        ("openai", "gpt-4o"),
        Usage(input_tokens=6000, cache_read_tokens=4000, output_tokens=500),
        (D(6000) * D("2.5") + D(4000) * D("1.25") + D(500) * D(10)) / D(10**6),
        id="openai-gpt-4o-cached",
    ),
    pytest.param(
        ("openai", "gpt-4o-mini"),
        Usage(input_tokens=1000, output_tokens=200),
        (D(1000) * D("0.15") + D(200) * D("0.6")) / D(10**6),
        id="openai-gpt-4o-mini",
    ),
    pytest.param(
        # Anthropic: a 5-minute cache write at 1.25x input ($3.75) plus uncached input and output
        ("anthropic", "claude-sonnet-4-5"),
        Usage(input_tokens=100, cache_write_tokens=2000, output_tokens=300),
        (D(100) * D(3) + D(2000) * D("3.75") + D(300) * D(15)) / D(10**6),
        id="anthropic-cache-write-5m",
    ),
    pytest.param(
        # Anthropic: a cache read at 0.1x ($0.30) and a 1-hour write at 2x ($6)
        ("anthropic", "claude-sonnet-4-5"),
        Usage(
            input_tokens=50,
            cache_read_tokens=10_000,
            cache_write_tokens=1000,
            cache_write_1h_tokens=1000,
            output_tokens=200,
        ),
        (D(50) * D(3) + D(10_000) * D("0.3") + D(1000) * D(6) + D(200) * D(15)) / D(10**6),
        id="anthropic-cache-read-and-1h-write",
    ),
    pytest.param(
        # Anthropic long context (the map prices this model above 100k): every class at the tier rate
        ("anthropic", "claude-haiku-5-5"),
        Usage(input_tokens=90_000, cache_read_tokens=20_000, cache_write_tokens=10_000, output_tokens=1000),
        (D(90_000) * D("0.5") + D(20_000) * D("0.05") + D(10_000) * D("0.625") + D(1000) * D("2.5")) / D(10**6),
        id="anthropic-above-tier-cache-write",
    ),
    pytest.param(
        ("gemini", "gemini-2.5-pro"),
        Usage(input_tokens=100_000, output_tokens=1000),
        (D(100_000) * D("1.25") + D(1000) * D(10)) / D(10**6),
        id="gemini-below-200k",
    ),
    pytest.param(
        # Gemini above 200k prompt tokens: $2.50 input, $0.25 cached, $15 output for the whole call
        ("gemini", "gemini-2.5-pro"),
        Usage(input_tokens=200_000, cache_read_tokens=50_000, output_tokens=2000),
        (D(200_000) * D("2.5") + D(50_000) * D("0.25") + D(2000) * D(15)) / D(10**6),
        id="gemini-above-200k",
    ),
    pytest.param(
        # o-series: 4,000 of the 5,000 output tokens are reasoning, billed at the output rate once
        ("openai", "o3"),
        Usage(input_tokens=1000, output_tokens=5000, reasoning_tokens=4000),
        (D(1000) * D(2) + D(5000) * D(8)) / D(10**6),
        id="o3-reasoning",
    ),
    pytest.param(
        # a map entry with output_cost_per_reasoning_token: reasoning at $0.50, the rest at $0.20
        ("dashscope", "qwen-turbo"),
        Usage(input_tokens=1000, output_tokens=3000, reasoning_tokens=2000),
        (D(1000) * D("0.05") + D(1000) * D("0.2") + D(2000) * D("0.5")) / D(10**6),
        id="reasoning-rate",
    ),
    pytest.param(
        # DeepSeek: prompt_cache_hit 3,000 at $0.028, miss 1,000 at $0.28
        ("deepseek", "deepseek-chat"),
        Usage(input_tokens=1000, cache_read_tokens=3000, output_tokens=500),
        (D(1000) * D("0.28") + D(3000) * D("0.028") + D(500) * D("0.42")) / D(10**6),
        id="deepseek-cache-hit-miss",
    ),
]


@pytest.mark.parametrize(("model", "usage", "expected"), CASES)
def test_cost_of_representative_calls(model: tuple[str, str], usage: Usage, expected: Decimal) -> None:
    row = price(*model)
    assert cost_of(usage, row) == expected
    assert cost_of(usage, row) == computed_cost(usage, row)


def test_hand_values_are_the_published_per_1m_prices() -> None:
    # Guards the guard: if the parser's unit were off, the hand values above would be too
    assert price("openai", "gpt-4o").input_per_1m == D("2.5")
    assert price("deepseek", "deepseek-chat").cache_read_per_1m == D("0.028")
    assert rates_for(price("gemini", "gemini-2.5-pro"), 200_001).input == D("2.5")
    assert rates_for(price("gemini", "gemini-2.5-pro"), 200_000).input == D("1.25")
    assert price("dashscope", "qwen-turbo").input_per_1m == D("0.05")


def test_provider_reported_cost_wins_for_openrouter() -> None:
    row = PriceRow(None, "openrouter", "x/y", "openrouter", D(1), D(2))
    usage = Usage(input_tokens=1000, output_tokens=1000, provider_cost_usd=D("0.0001234"))
    assert cost_of(usage, row) == D("0.0001234")
    assert computed_cost(usage, row) == D("0.003")


def test_zero_price_row_is_free_but_only_because_it_says_so() -> None:
    free = PriceRow(None, "custom", "local-llama", "manual", D(0), D(0))
    assert cost_of(Usage(input_tokens=10**6, output_tokens=10**6), free) == 0


def test_sub_cent_costs_keep_1e_minus_10_precision() -> None:
    row = PriceRow(None, "openai", "tiny", "manual", D("0.0001"), D("0.0001"))
    assert cost_of(Usage(input_tokens=1), row) == D("1E-10")


def test_worst_case_uses_dearest_rates_and_tier_near_threshold() -> None:
    sonnet = price("anthropic", "claude-sonnet-4-5")
    # every input token could be a 1-hour cache write ($6), every output token $15
    assert worst_case_cost(1000, 100, sonnet) == (D(1000) * D(6) + D(100) * D(15)) / D(10**6)
    gemini = price("gemini", "gemini-2.5-pro")
    # a 180k estimate is within 25% of the 200k tier: reserve at the tier rates
    assert worst_case_cost(180_000, 1000, gemini) == (D(180_000) * D("2.5") + D(1000) * D(15)) / D(10**6)
    assert worst_case_cost(100_000, 1000, gemini) == (D(100_000) * D("1.25") + D(1000) * D(10)) / D(10**6)
    assert input_cost(100_000, gemini) == D("0.125")
