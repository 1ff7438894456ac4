"""Refresh from feeds served over HTTP: the real old→new LiteLLM diff, the guard, idempotency.

The diff tests run on the committed cut of the public feeds and, when ``TOLLGATE_FULL_FEEDS`` is set,
on the full files; each asserts that set's exact counts (``tests.pricing_data``).
"""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.integration.pricing.conftest import FeedServer
from tests.pricing_data import FIXTURE_FEEDS, LITELLM, LITELLM_OLD, OPENROUTER, FeedSet, feed_set_params
from tollgate.db.models import ModelPrice, PricingStatus
from tollgate.pricing.calculator import cost_of
from tollgate.pricing.feeds.litellm import SKIP_KEYS, map_key
from tollgate.providers.base import Usage
from tollgate.wiring import Services


def _token_priced(entry: dict[str, object]) -> bool:
    return "input_cost_per_token" in entry and "output_cost_per_token" in entry


def _count(services: Services, **where: object) -> int:
    with services.sessions() as session:
        query = select(func.count()).select_from(ModelPrice)
        for name, value in where.items():
            column = getattr(ModelPrice, name)
            query = query.where(column.is_(None) if value is None else column == value)
        return int(session.scalar(query) or 0)


@pytest.mark.parametrize("data", feed_set_params())
def test_old_to_new_litellm_map_reports_the_real_diff(
    empty_services: Services, feeds: FeedServer, data: FeedSet
) -> None:
    # Given the old LiteLLM map (litellm 1.63.0) applied to an empty database
    feeds.serve_file("/litellm.json", data.path(LITELLM_OLD))
    feeds.serve_file("/openrouter.json", data.path(OPENROUTER))
    first = empty_services.pricing_refresher.refresh()
    assert first.ok
    # entries not priced per token (images, per-second audio, ...) are skipped
    assert (first.source("litellm").added, first.source("litellm").skipped) == (data.old_models, data.old_skipped)
    # OpenRouter's models minus the routers priced "-1"
    openrouter = first.source("openrouter")
    assert (openrouter.added, openrouter.skipped) == (data.openrouter_models, data.openrouter_skipped)
    assert first.rows_written == data.old_models + data.openrouter_models
    deepseek_before = empty_services.prices.current("deepseek", "deepseek-chat")
    assert deepseek_before is not None

    # When the current map is served, the guard refuses it: more than 20% of the known models disappear
    added, changed, removed, unchanged = data.diff
    assert removed / data.old_models > 0.2
    feeds.serve_file("/litellm.json", data.path(LITELLM))
    refused = empty_services.pricing_refresher.refresh()
    litellm = refused.source("litellm")
    assert litellm.status == "rejected"
    assert any(f"drops {removed} of {data.old_models} known models" in p for p in litellm.problems)
    assert refused.rows_written == 0
    # a rejected feed is the operators' business: their topic gets it, the tenants' alert queue never does
    alerts = empty_services.operator_events.drain()  # type: ignore[attr-defined]
    assert [a["event"] for a in alerts] == ["pricing.feed_rejected"]
    assert empty_services.alert_queue.drain() == []  # type: ignore[attr-defined]

    # When an operator forces it
    forced = empty_services.pricing_refresher.refresh(force=True)
    report = forced.source("litellm")
    # Then the key diff is seen through the (provider, model) mapping: some entries are not
    # token-priced, and 19 keys collapse onto another key's (provider, model) (e.g. `deepseek-chat`
    # and `deepseek/deepseek-chat`)
    old, new = data.load(LITELLM_OLD), data.load(LITELLM)
    old_keys, new_keys = set(old) - SKIP_KEYS, set(new) - SKIP_KEYS
    assert (len(new_keys - old_keys), len(old_keys - new_keys)) == (data.keys_added, data.keys_removed)
    assert (report.added, report.changed, report.removed, report.unchanged) == data.diff
    # the removed models are the removed token-priced keys, minus those whose (provider, model)
    # lives on under another key of the new map (a fireworks_ai model)
    removed_keys = {map_key(k, old[k]["litellm_provider"]) for k in old_keys - new_keys if _token_priced(old[k])}
    new_models = {map_key(k, v["litellm_provider"]) for k, v in new.items() if k in new_keys and _token_priced(v)}
    assert len(removed_keys) == data.removed_priced
    assert set(report.changes["removed"]) == removed_keys - new_models
    # of the 54 keys whose input/output price moved, 53 are re-priced models and one had no token
    # price before (together_ai Mistral-7B-Instruct-v0.1), so for us it is new; the other re-priced
    # models changed a cache, tier or reasoning rate only
    repriced = [
        k
        for k in old_keys & new_keys
        if any(old[k].get(f) != new[k].get(f) for f in ("input_cost_per_token", "output_cost_per_token"))
    ]
    assert len(repriced) == data.repriced_keys
    was_priced = {map_key(k, new[k]["litellm_provider"]) for k in repriced if _token_priced(old[k])}
    newly_priced = {map_key(k, new[k]["litellm_provider"]) for k in repriced if not _token_priced(old[k])}
    assert (len(was_priced), newly_priced) == (53, {("together_ai", "mistralai/Mistral-7B-Instruct-v0.1")})
    assert was_priced <= set(report.changes["changed"])
    assert newly_priced <= set(report.changes["added"])
    assert report.rows_written == added + 2 * changed + removed
    # And costs use the new price (DeepSeek chat: $0.27/$1.10 → $0.28/$0.42 per 1M)
    empty_services.prices.invalidate()
    after = empty_services.prices.current("deepseek", "deepseek-chat")
    assert after is not None and after.id != deepseek_before.id
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert cost_of(usage, deepseek_before) == Decimal("1.37")
    assert cost_of(usage, after) == Decimal("0.70")
    # And history is kept: the old version is closed, not deleted
    assert _count(empty_services, provider="deepseek", model="deepseek-chat", source="litellm") == 2


@pytest.mark.parametrize("data", feed_set_params())
def test_second_identical_run_writes_nothing(empty_services: Services, feeds: FeedServer, data: FeedSet) -> None:
    feeds.serve_file("/litellm.json", data.path(LITELLM))
    feeds.serve_file("/openrouter.json", data.path(OPENROUTER))
    first = empty_services.pricing_refresher.refresh()
    assert first.ok and first.rows_written == data.litellm_models + data.openrouter_models
    rows_before = _count(empty_services)
    second = empty_services.pricing_refresher.refresh()
    assert second.ok and second.rows_written == 0
    assert second.source("litellm").unchanged == data.litellm_models
    assert _count(empty_services) == rows_before
    with empty_services.sessions() as session:
        status = session.get(PricingStatus, 1)
    assert status is not None and status.rows_written == 0 and status.last_error is None


def test_guard_rejects_a_feed_with_half_the_models_removed(empty_services: Services, feeds: FeedServer) -> None:
    feeds.serve_file("/litellm.json", FIXTURE_FEEDS.path(LITELLM))
    empty_services.settings.pricing_openrouter_url = ""  # only LiteLLM (the refresher is built lazily)
    services = empty_services
    assert services.pricing_refresher.refresh().ok
    assert services.pricing_refresher.sources == ("litellm",)
    document = FIXTURE_FEEDS.load(LITELLM)
    halved = dict(list(document.items())[::2])
    feeds.serve_json("/litellm.json", halved)
    report = services.pricing_refresher.refresh()
    assert report.source("litellm").status == "rejected"
    assert "known models" in report.source("litellm").problems[0]
    assert report.rows_written == 0
    assert _count(services, source="litellm", effective_to=None) == FIXTURE_FEEDS.litellm_models


def test_guard_rejects_a_price_times_100_and_keeps_old_prices(empty_services: Services, feeds: FeedServer) -> None:
    feeds.serve_file("/litellm.json", FIXTURE_FEEDS.path(LITELLM))
    feeds.serve_file("/openrouter.json", FIXTURE_FEEDS.path(OPENROUTER))
    assert empty_services.pricing_refresher.refresh().ok
    document = FIXTURE_FEEDS.load(LITELLM)
    changed = copy.deepcopy(document)
    changed["gpt-4o"]["input_cost_per_token"] *= 100
    feeds.serve_json("/litellm.json", changed)
    report = empty_services.pricing_refresher.refresh()
    litellm = report.source("litellm")
    assert litellm.status == "rejected"
    assert "openai/gpt-4o input_per_1m 2.5 -> 250" in litellm.problems[0]
    assert report.source("openrouter").status == "applied"
    price = empty_services.prices.current("openai", "gpt-4o")
    assert price is not None and price.input_per_1m == Decimal("2.5")
    with empty_services.sessions() as session:
        status = session.get(PricingStatus, 1)
    assert status is not None and status.last_error is not None and "10x" in status.last_error
    assert status.source_versions["litellm"]["status"] == "rejected"
    alerts = empty_services.operator_events.drain()  # type: ignore[attr-defined]
    assert alerts[0]["event"] == "pricing.feed_rejected" and alerts[0]["source"] == "litellm"
    assert empty_services.alert_queue.drain() == []  # type: ignore[attr-defined]


def test_guard_rejects_unit_mistakes_and_non_numeric_prices(empty_services: Services, feeds: FeedServer) -> None:
    base = {
        "gpt-4o": {
            "litellm_provider": "openai",
            "input_cost_per_token": Decimal("0.0000025"),
            "output_cost_per_token": Decimal("0.00001"),
        }
    }
    # per 1M instead of per token: 2.5 USD per token is 2.5M USD per 1M tokens
    per_1m = {"gpt-4o": {**base["gpt-4o"], "input_cost_per_token": Decimal("2.5")}}
    feeds.serve_json("/litellm.json", per_1m)
    feeds.serve_json("/openrouter.json", {"data": []})
    report = empty_services.pricing_refresher.refresh()
    assert report.source("litellm").status == "rejected"
    assert "wrong unit" in report.source("litellm").problems[0]
    # a correct feed is accepted; a per-1K feed afterwards moves the price 1000x and is refused
    feeds.serve_json("/litellm.json", base)
    assert empty_services.pricing_refresher.refresh().source("litellm").status == "applied"
    per_1k = {"gpt-4o": {**base["gpt-4o"], "input_cost_per_token": Decimal("0.0025")}}
    feeds.serve_json("/litellm.json", per_1k)
    assert "move by more than" in empty_services.pricing_refresher.refresh().source("litellm").problems[0]
    # negative and non-numeric prices are refused even when forced
    for bad in (Decimal("-0.000001"), "cheap"):
        feeds.serve_json("/litellm.json", {"gpt-4o": {**base["gpt-4o"], "output_cost_per_token": bad}})
        forced = empty_services.pricing_refresher.refresh(force=True)
        assert forced.source("litellm").status == "rejected"
        assert "negative or non-numeric" in forced.source("litellm").problems[0]
    price = empty_services.prices.current("openai", "gpt-4o")
    assert price is not None and (price.input_per_1m, price.output_per_1m) == (Decimal("2.5"), Decimal("10"))


def test_unreachable_feed_is_recorded_and_alerted(empty_services: Services, feeds: FeedServer) -> None:
    feeds.serve_file("/openrouter.json", FIXTURE_FEEDS.path(OPENROUTER))  # /litellm.json is not served: HTTP 404
    report = empty_services.pricing_refresher.refresh()
    assert report.source("litellm").status == "failed"
    assert report.source("openrouter").status == "applied"
    with empty_services.sessions() as session:
        status = session.get(PricingStatus, 1)
    assert status is not None and status.last_success_at is None and status.last_attempt_at is not None
    assert "HTTP 404" in (status.last_error or "")
