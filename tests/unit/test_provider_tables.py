"""Per-provider error tables and usage normalization, checked against provider_wire_formats.md bodies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.fake_providers import (
    anthropic_server,
    deepseek_server,
    gemini_server,
    openai_server,
    openrouter_server,
    yandex_server,
)
from tollgate.anthropic_api.native import usage_of as anthropic_usage
from tollgate.providers import anthropic, gemini, yandex
from tollgate.providers.base import Usage
from tollgate.providers.errors import FailureKind
from tollgate.providers.http import parse_duration, retry_after_seconds
from tollgate.providers.invoker import RetryPolicy
from tollgate.providers.openai_compat import (
    classify_deepseek,
    classify_openai,
    classify_openrouter,
    deepseek_usage,
    openai_usage,
    openrouter_usage,
)


def _openai(spec: tuple[int, str, str | None, str]) -> tuple[int, Any]:
    reply = openai_server.error(*spec)
    return reply.status, reply.body


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (*_openai(openai_server.INVALID_KEY), FailureKind.AUTH),
        (*_openai(openai_server.INSUFFICIENT_QUOTA), FailureKind.QUOTA),
        (429, {"error": {"type": "requests", "code": "project_spend_limit_exceeded"}}, FailureKind.QUOTA),
        (*_openai(openai_server.RATE_LIMITED), FailureKind.RATE_LIMIT),
        (*_openai(openai_server.SERVER_ERROR), FailureKind.SERVER),
        (*_openai(openai_server.MODEL_NOT_FOUND), FailureKind.NOT_FOUND),
        (403, {"error": {"code": "unsupported_country_region_territory"}}, FailureKind.AUTH),
        (400, {"error": {"type": "invalid_request_error", "code": None}}, FailureKind.BAD_REQUEST),
        (503, None, FailureKind.OVERLOADED),
    ],
)
def test_openai_error_table(status: int, body: Any, kind: FailureKind) -> None:
    error = classify_openai("openai")(status, body, {})
    assert error.kind is kind
    assert "Incorrect" not in error.message and "quota, please" not in error.message


@pytest.mark.parametrize(
    ("status", "error_type", "extra", "kind"),
    [
        (401, "authentication_error", {}, FailureKind.AUTH),
        (403, "permission_error", {}, FailureKind.AUTH),
        (402, "billing_error", {}, FailureKind.QUOTA),
        (404, "not_found_error", {}, FailureKind.NOT_FOUND),
        (409, "conflict_error", {}, FailureKind.CONFLICT),
        (413, "request_too_large", {}, FailureKind.BAD_REQUEST),
        (429, "rate_limit_error", {}, FailureKind.RATE_LIMIT),
        (429, "rate_limit_error", {"details": {"error_code": "enforced_spend_limit_reached"}}, FailureKind.QUOTA),
        (500, "api_error", {}, FailureKind.SERVER),
        (504, "timeout_error", {}, FailureKind.TIMEOUT),
        (529, "overloaded_error", {}, FailureKind.OVERLOADED),
    ],
)
def test_anthropic_error_table(status: int, error_type: str, extra: dict[str, Any], kind: FailureKind) -> None:
    reply = anthropic_server.error(status, error_type, "…", headers={"retry-after": "3"}, **extra)
    error = anthropic.classify(status, reply.body, reply.headers)
    assert error.kind is kind
    assert error.retry_after_s == 3.0


def test_gemini_error_table() -> None:
    invalid = gemini_server.API_KEY_INVALID
    assert gemini.classify(400, invalid.body, {}).kind is FailureKind.AUTH
    daily = gemini_server.quota_exhausted("GenerateRequestsPerDayPerProjectPerModel-FreeTier")
    assert gemini.classify(429, daily.body, {}).kind is FailureKind.QUOTA
    minute = gemini.classify(429, gemini_server.quota_exhausted("PerMinute", "12.771204034s").body, {})
    assert minute.kind is FailureKind.RATE_LIMIT and minute.retry_after_s == pytest.approx(12.771204034)
    assert gemini.classify(503, {"error": {"code": 503, "status": "UNAVAILABLE"}}, {}).kind is FailureKind.OVERLOADED
    assert gemini.classify(504, {"error": {"status": "DEADLINE_EXCEEDED"}}, {}).kind is FailureKind.TIMEOUT
    bad = gemini.classify(400, {"error": {"code": 400, "status": "INVALID_ARGUMENT", "details": []}}, {})
    assert bad.kind is FailureKind.BAD_REQUEST


def test_yandex_deepseek_openrouter_error_tables() -> None:
    assert yandex.classify(401, yandex_server.UNKNOWN_KEY.body, {}).kind is FailureKind.AUTH
    assert yandex.classify(429, {"code": 8, "message": "quota", "details": []}, {}).kind is FailureKind.RATE_LIMIT
    assert yandex.classify(404, yandex_server.error(404, 5, "x", "Not Found").body, {}).kind is FailureKind.NOT_FOUND
    assert classify_deepseek(402, deepseek_server.INSUFFICIENT_BALANCE.body, {}).kind is FailureKind.QUOTA
    assert classify_deepseek(422, None, {}).kind is FailureKind.BAD_REQUEST
    assert classify_openrouter(402, openrouter_server.NO_CREDITS.body, {}).kind is FailureKind.QUOTA
    assert (
        classify_openrouter(403, {"error": {"code": 403, "metadata": {"reasons": ["x"]}}}, {}).kind
        is FailureKind.BAD_REQUEST
    )
    assert classify_openrouter(502, {"error": {"code": 502}}, {}).kind is FailureKind.SERVER


def test_usage_normalization_rules() -> None:
    # OpenAI: cached ⊂ prompt_tokens; reasoning ⊂ completion_tokens
    assert openai_usage(openai_server.USAGE) == Usage(input_tokens=86, cache_read_tokens=1920, output_tokens=300)
    assert openai_usage({"prompt_tokens": 5, "prompt_tokens_details": None}) == Usage(input_tokens=5)
    # DeepSeek: its own hit/miss fields
    assert deepseek_usage(deepseek_server.USAGE) == Usage(
        input_tokens=1000, cache_read_tokens=9000, output_tokens=500, reasoning_tokens=350
    )
    # OpenRouter: cache writes inside prompt_tokens, charged cost kept as Decimal
    routed = openrouter_usage(openrouter_server.USAGE)
    assert (routed.input_tokens, routed.cache_write_tokens, routed.output_tokens) == (94, 100, 2)
    assert routed.provider_cost_usd == Decimal("0.0012")
    # Anthropic: input_tokens excludes reads and writes; 1h writes split out
    usage = anthropic_usage(
        {
            **anthropic_server.USAGE,
            "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 800},
        }
    )
    assert (usage.input_tokens, usage.cache_write_tokens, usage.cache_write_1h_tokens) == (21, 1800, 800)
    assert usage.prompt_tokens == 21 + 1800
    # Anthropic stream: message_delta output is cumulative and replaces, never adds
    start = anthropic_usage({"input_tokens": 21, "output_tokens": 1})
    assert anthropic_usage({"output_tokens": 5}, start) == Usage(input_tokens=21, output_tokens=5)
    # Gemini: cached ⊂ prompt; thoughts are added to candidates
    assert gemini.gemini_usage(gemini_server.USAGE) == Usage(
        input_tokens=700, cache_read_tokens=300, output_tokens=500, reasoning_tokens=100
    )
    assert gemini.gemini_usage({"promptTokenCount": 9}) == Usage(input_tokens=9)
    # Yandex: strings
    assert yandex.yandex_usage({"inputTextTokens": "19", "completionTokens": "6"}) == Usage(
        input_tokens=19, output_tokens=6
    )


def test_retry_after_parsing() -> None:
    assert retry_after_seconds({"retry-after": "2"}) == 2.0
    assert retry_after_seconds({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_seconds({"x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s"}) == 360.0
    assert retry_after_seconds({}) is None
    assert parse_duration("12ms") == pytest.approx(0.012)
    assert parse_duration("1m30.5s") == pytest.approx(90.5)
    assert parse_duration("soon") is None


def test_backoff_is_exponential_capped_with_jitter() -> None:
    policy = RetryPolicy()
    assert [policy.backoff(n, rng=lambda: 0.5) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert policy.backoff(1, rng=lambda: 0.0) == 0.75
    assert policy.backoff(2, rng=lambda: 1.0) == 2.5
    assert policy.backoff(6, rng=lambda: 1.0) == 10.0
