"""The sanity guard's rules on synthetic feeds, and the unpriced-alert throttle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tollgate.alerts.queue import InProcessAlertQueue
from tollgate.pricing.calculator import PriceRow
from tollgate.pricing.feeds import ParsedFeed
from tollgate.pricing.guard import check_feed
from tollgate.pricing.unpriced import UnpricedAlerts

D = Decimal


def row(model: str, input_rate: str = "1", output_rate: str = "2") -> PriceRow:
    return PriceRow(None, "openai", model, "litellm", D(input_rate), D(output_rate))


def known(count: int) -> dict[tuple[str, str], PriceRow]:
    return {("openai", f"m{i}"): row(f"m{i}") for i in range(count)}


def feed(*rows: PriceRow) -> ParsedFeed:
    return ParsedFeed("litellm", "v", prices=list(rows))


def kinds(feed_: ParsedFeed, current: dict[tuple[str, str], PriceRow]) -> list[str]:
    return [p.kind for p in check_feed(feed_, current)]


def test_dropping_exactly_20_percent_passes_and_more_fails() -> None:
    current = known(10)
    assert kinds(feed(*[row(f"m{i}") for i in range(8)]), current) == []
    assert kinds(feed(*[row(f"m{i}") for i in range(7)]), current) == ["drop"]


def test_a_new_source_or_empty_database_is_not_a_drop() -> None:
    assert kinds(feed(row("a"), row("b")), {}) == []


def test_ten_times_is_allowed_more_is_not_and_paid_to_free_counts() -> None:
    current = {("openai", "m"): row("m", "1", "2")}
    assert kinds(feed(row("m", "10", "2")), current) == []
    assert kinds(feed(row("m", "0.1", "2")), current) == []
    assert kinds(feed(row("m", "10.5", "2")), current) == ["move"]
    assert kinds(feed(row("m", "0.09", "2")), current) == ["move"]
    assert kinds(feed(row("m", "0", "2")), current) == ["move"]
    free = {("openai", "m"): row("m", "0", "0")}
    assert kinds(feed(row("m", "1", "2")), free) == []


def test_wrong_unit_and_empty_feeds_are_refused() -> None:
    assert kinds(feed(row("m", "2500000", "2")), {}) == ["unit"]
    assert kinds(feed(), {}) == ["empty"]


def test_unpriced_alerts_are_throttled_per_model() -> None:
    class Clock:
        now_value = datetime(2026, 1, 1, tzinfo=UTC)

        def now(self) -> datetime:
            return self.now_value

    queue, clock = InProcessAlertQueue(), Clock()
    alerts = UnpricedAlerts(queue, clock, every_s=3600)
    price = row("gpt-4o")
    assert alerts.raise_once("ws", "openai", "gpt-x", price) is True
    assert alerts.raise_once("ws", "openai", "gpt-x", price) is False
    assert alerts.raise_once("ws", "openai", "gpt-y", price) is True
    clock.now_value += timedelta(hours=1)
    assert alerts.raise_once("ws", "openai", "gpt-x", price) is True
    sent = queue.drain()
    assert [m["model"] for m in sent] == ["gpt-x", "gpt-y", "gpt-x"]
    assert sent[0]["event"] == "pricing.model_unpriced" and sent[0]["priced_as"] == "openai/gpt-4o"
