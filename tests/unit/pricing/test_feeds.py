"""Feed parsers: LiteLLM quirks and key mapping, OpenRouter routers/free/optional keys, precedence."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.pricing_data import LITELLM, OPENROUTER, FeedSet, feed_set_params
from tollgate.pricing.feeds.fetch import parse_json
from tollgate.pricing.feeds.litellm import map_key, parse_litellm
from tollgate.pricing.feeds.openrouter import parse_openrouter
from tollgate.pricing.guard import check_feed
from tollgate.pricing.nearest import pick_nearest
from tollgate.pricing.precedence import source_rank

D = Decimal


@pytest.mark.parametrize("data", feed_set_params())
def test_litellm_map_skips_doc_stubs_and_collapses_duplicate_keys(data: FeedSet) -> None:
    fetched = parse_json(data.path(LITELLM).read_bytes())
    feed = parse_litellm(fetched.document, fetched.sha256[:12])
    # the full map: 4,551 models, 3,671 token-priced keys, 19 of which name a (provider, model)
    # another key has; the fixture keeps all 19 collisions
    counts = (len(feed.prices), feed.skipped, feed.duplicates, feed.invalid)
    assert counts == (data.litellm_models, data.litellm_skipped, data.litellm_duplicates, [])
    idents = {(r.provider, r.model) for r in feed.prices}
    assert ("openai", "gpt-4o") in idents
    assert ("gemini", "gemini-2.5-pro") in idents
    assert ("openai", "gpt-3.5-turbo-instruct") in idents  # text-completion-openai → openai
    ours = [r for r in feed.prices if r.provider in ("openai", "gemini", "deepseek", "anthropic")]
    assert not any(r.model.startswith(f"{r.provider}/") for r in ours)
    assert all(isinstance(v, Decimal) for r in feed.prices for v in r.decimal_prices().values())


def test_map_key_strips_the_provider_prefix_only() -> None:
    assert map_key("openrouter/anthropic/claude-3.5-sonnet", "openrouter") == (
        "openrouter",
        "anthropic/claude-3.5-sonnet",
    )
    assert map_key("gemini/gemini-2.5-pro", "gemini") == ("gemini", "gemini-2.5-pro")
    assert map_key("bedrock/us.anthropic.claude", "bedrock") == ("bedrock", "us.anthropic.claude")
    assert map_key("claude-3-haiku@20240307", "vertex_ai-anthropic_models") == (
        "vertex_ai-anthropic_models",
        "claude-3-haiku@20240307",
    )


def test_prefixed_key_wins_a_collision() -> None:
    document = {
        "deepseek-chat": {"litellm_provider": "deepseek", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
        "deepseek/deepseek-chat": {
            "litellm_provider": "deepseek",
            "input_cost_per_token": D("2.8E-7"),
            "output_cost_per_token": D("4.2E-7"),
        },
    }
    (row,) = parse_litellm(document, "v").prices
    assert (row.input_per_1m, row.output_per_1m) == (D("0.28"), D("0.42"))


@pytest.mark.parametrize("data", feed_set_params())
def test_openrouter_routers_skipped_free_kept_optional_keys_mapped(data: FeedSet) -> None:
    document = json.loads(data.path(OPENROUTER).read_text())
    feed = parse_openrouter(document, "v")
    assert (len(feed.prices), feed.skipped, feed.invalid) == (data.openrouter_models, data.openrouter_skipped, [])
    by_id = {r.model: r for r in feed.prices}
    assert "openrouter/auto" not in by_id
    free = [r for r in feed.prices if r.input_per_1m == 0 and r.output_per_1m == 0]
    assert len(free) == data.openrouter_free
    flash = by_id["google/gemini-2.5-flash"]
    assert (flash.input_per_1m, flash.output_per_1m, flash.cache_read_per_1m) == (D("0.3"), D("2.5"), D("0.03"))
    assert flash.cache_write_per_1m == D("0.083333333")  # 8.333…e-8 per token, kept to 1e-9 per 1M
    assert flash.reasoning_per_1m == D("2.5")


def test_openrouter_rejects_non_numeric_and_negative_prices() -> None:
    document = {
        "data": [
            {"id": "a/b", "pricing": {"prompt": "abc", "completion": "0.000001"}},
            {"id": "a/c", "pricing": {"prompt": "-0.000001", "completion": "0.000001"}},
            {"id": "a/d", "pricing": {"prompt": "0.000001", "completion": "0.000002"}},
        ]
    }
    feed = parse_openrouter(document, "v")
    assert [r.model for r in feed.prices] == ["a/d"]
    assert len(feed.invalid) == 2
    assert [p.kind for p in check_feed(feed, {})] == ["invalid"]


def test_precedence_manual_then_own_feed_then_aggregator() -> None:
    assert source_rank("openai", "manual") < source_rank("openai", "litellm") < source_rank("openai", "openrouter")
    # OpenRouter's own list is the provider feed for provider openrouter
    assert source_rank("openrouter", "manual") < source_rank("openrouter", "openrouter")
    assert source_rank("openrouter", "openrouter") < source_rank("openrouter", "litellm")


def test_nearest_model_prefers_longest_prefix_then_the_dearest() -> None:
    from tollgate.pricing.calculator import PriceRow

    rows = [
        PriceRow(None, "openai", "gpt-4o", "litellm", D("2.5"), D(10)),
        PriceRow(None, "openai", "gpt-4o-mini", "litellm", D("0.15"), D("0.6")),
        PriceRow(None, "openai", "o3", "litellm", D(2), D(8)),
        PriceRow(None, "openai", "free-thing", "manual", D(0), D(0)),
    ]
    assert pick_nearest("gpt-4o-2099-01-01", rows).model == "gpt-4o"  # type: ignore[union-attr]
    assert pick_nearest("gpt-4o-mini-2099", rows).model == "gpt-4o-mini"  # type: ignore[union-attr]
    assert pick_nearest("gpt-4", rows).model == "gpt-4o"  # type: ignore[union-attr]  # tie: the dearer
    assert pick_nearest("zzz", rows).model == "gpt-4o"  # type: ignore[union-attr]  # no prefix: dearest
    assert pick_nearest("free-thing-2", rows[3:]) is None  # never estimate at $0
