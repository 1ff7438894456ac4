"""What the upstream reports is checked: missing, null, negative, huge, Infinity → a flagged estimate."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tollgate.anthropic_api.native import usage_of as anthropic_usage
from tollgate.providers.anthropic import ANTHROPIC_REQUIRED
from tollgate.providers.base import ChatRequest, Usage
from tollgate.providers.gemini import GEMINI_REQUIRED, gemini_usage
from tollgate.providers.openai_compat import OPENAI_REQUIRED, deepseek_usage, openai_usage, openrouter_usage
from tollgate.providers.usage_check import MAX_REPORTED_TOKENS, answer_text, sanitize_usage, token_count
from tollgate.providers.yandex import YANDEX_REQUIRED, yandex_usage

REQUEST = ChatRequest("gpt-4o", {"messages": [{"role": "user", "content": "hello there " * 50}]})
ANSWER = "a fine answer " * 10
Parser = Callable[[Mapping[str, Any]], Usage]
PARSERS: list[tuple[str, Parser, tuple[str, ...]]] = [
    ("openai", openai_usage, OPENAI_REQUIRED),
    ("deepseek", deepseek_usage, OPENAI_REQUIRED),
    ("openrouter", openrouter_usage, OPENAI_REQUIRED),
    ("anthropic", anthropic_usage, ANTHROPIC_REQUIRED),
    ("gemini", gemini_usage, GEMINI_REQUIRED),
    ("yandex", yandex_usage, YANDEX_REQUIRED),
]


def check(raw: Any, parse: Parser = openai_usage, required: tuple[str, ...] = OPENAI_REQUIRED) -> Any:
    return sanitize_usage(raw, REQUEST, ANSWER, provider="openai", parse=parse, required=required)


def test_a_sane_report_is_believed() -> None:
    checked = check({"prompt_tokens": 120, "completion_tokens": 30, "prompt_tokens_details": {"cached_tokens": 20}})
    assert checked.usage == Usage(input_tokens=100, cache_read_tokens=20, output_tokens=30)
    assert checked.estimated is False and checked.problems == ()


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {},
        {"prompt_tokens": 10},
        {"prompt_tokens": 10, "completion_tokens": None},
        {"prompt_tokens": 10, "completion_tokens": -500},
        {"prompt_tokens": 10, "completion_tokens": 10**20},
        {"prompt_tokens": 10, "completion_tokens": math.inf},
        {"prompt_tokens": 10, "completion_tokens": math.nan},
        {"prompt_tokens": 10, "completion_tokens": "lots"},
        {"prompt_tokens": True, "completion_tokens": 5},
        {"prompt_tokens": 10, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": -3}},
        {"prompt_tokens": 10, "completion_tokens": 5, "completion_tokens_details": {"reasoning_tokens": -1}},
        {"prompt_tokens": 10, "completion_tokens": 5, "completion_tokens_details": {"reasoning_tokens": 9}},
        "garbage",
    ],
)
def test_a_bad_report_becomes_a_flagged_estimate(raw: Any) -> None:
    checked = check(raw)
    assert checked.estimated and checked.usage.estimated and checked.problems
    assert checked.usage.input_tokens >= 100  # the prompt estimate, never 0
    assert checked.usage.output_tokens >= 30  # the answer's text, never 0 or negative
    assert checked.usage.provider_cost_usd is None


def test_an_estimate_keeps_the_larger_valid_counts() -> None:
    checked = check({"prompt_tokens": 5000, "completion_tokens": -1})
    assert checked.usage.input_tokens == 5000 and checked.estimated


def test_openrouter_cost_is_kept_only_when_sane() -> None:
    good = {"prompt_tokens": 10, "completion_tokens": 5, "cost": 0.0012}
    assert check(good, openrouter_usage).usage.provider_cost_usd == Decimal("0.0012")
    assert check({**good, "cost": -1}, openrouter_usage).estimated
    assert check({**good, "cost": "Infinity"}, openrouter_usage).estimated


def test_gemini_modality_lists_are_not_counters() -> None:
    raw = {"promptTokenCount": 9, "candidatesTokenCount": 2, "promptTokensDetails": [{"tokenCount": 9}]}
    checked = check(raw, gemini_usage, GEMINI_REQUIRED)
    assert checked.usage == Usage(input_tokens=9, output_tokens=2) and not checked.estimated


def test_yandex_strings_are_counts() -> None:
    raw = {"inputTextTokens": "12", "completionTokens": "7", "totalTokens": "19"}
    checked = check(raw, yandex_usage, YANDEX_REQUIRED)
    assert checked.usage == Usage(input_tokens=12, output_tokens=7) and not checked.estimated


def test_token_count() -> None:
    assert [token_count(v) for v in (3, 3.0, "3", " 3 ", 0)] == [3, 3, 3, 3, 0]
    assert [token_count(v) for v in (-1, 3.5, "3.5", "-3", True, None, math.inf, 10**9)] == [None] * 8


def test_answer_text_includes_tool_arguments() -> None:
    body = {"choices": [{"message": {"content": "a", "tool_calls": [{"function": {"arguments": '{"b":1}'}}]}}]}
    assert answer_text(body) == 'a{"b":1}'


counter = st.one_of(
    st.integers(min_value=-(10**21), max_value=10**21),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
)
keys = st.sampled_from(
    [
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "promptTokenCount",
        "candidatesTokenCount",
        "thoughtsTokenCount",
        "cachedContentTokenCount",
        "inputTextTokens",
        "completionTokens",
        "prompt_cache_hit_tokens",
        "prompt_cache_miss_tokens",
        "cost",
    ]
)
details = st.dictionaries(st.sampled_from(["cached_tokens", "reasoning_tokens", "cache_write_tokens"]), counter)
raw_usage = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.dictionaries(keys, counter, max_size=8).flatmap(
        lambda d: st.fixed_dictionaries(
            {},
            optional={"prompt_tokens_details": details, "completion_tokens_details": details},
        ).map(lambda extra: {**d, **extra})
    ),
)


@settings(max_examples=300, deadline=None)
@given(raw_usage, st.sampled_from(PARSERS))
def test_any_report_through_any_parser_is_billable(raw: Any, parser: tuple[str, Parser, tuple[str, ...]]) -> None:
    provider, parse, required = parser
    checked = sanitize_usage(raw, REQUEST, ANSWER, provider=provider, parse=parse, required=required)
    usage = checked.usage
    for name in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens"):
        value = getattr(usage, name)
        assert isinstance(value, int) and 0 <= value <= MAX_REPORTED_TOKENS, (name, value)
    assert usage.reasoning_tokens <= usage.output_tokens
    assert checked.estimated == bool(checked.problems) == usage.estimated
    cost = usage.provider_cost_usd
    assert cost is None or (cost.is_finite() and cost >= 0)
