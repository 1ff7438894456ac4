"""The rollup stays equal to the raw rows, and summaries are exact, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.integration.usage.seed import (
    Row,
    at,
    insert,
    make_record,
    random_rows,
    reference,
    rollup_from_rows,
    rollup_in_db,
)
from tollgate.db.models import UsageRecord
from tollgate.db.repositories.usage import UsageRepository
from tollgate.usage.filters import UsageFilter
from tollgate.usage.latency import exact_percentile
from tollgate.usage.summary import SummaryRequest
from tollgate.wiring import Services

WS = uuid.UUID("00000000-0000-4000-8000-00000000000a")


def fixed_rows(workspace_id: uuid.UUID) -> list[Row]:
    """A small data set whose totals are written out by hand below."""
    key = uuid.UUID("00000000-0000-4000-8000-0000000000b1")

    def row(provider: str, model: str, status: str, cost: str, latency: int, when: str, tokens: int) -> Row:
        return Row(
            workspace_id=workspace_id,
            key_id=key,
            provider=provider,
            model=model,
            workflow="support",
            agent="triage",
            status=status,
            error_type=None if status == "success" else "provider_unavailable",
            tokens=(tokens, 10, 5, tokens // 2, 0),
            cost_usd=Decimal(cost),
            latency_ms=latency,
            created_at=at(when),
        )

    return [
        row("openai", "gpt-4o-mini", "success", "0.000150000001", 100, "2026-11-01T10:00:00", 1000),
        row("openai", "gpt-4o-mini", "success", "0.000450000002", 200, "2026-11-01T23:59:59.999999", 3000),
        row("openai", "gpt-4o", "error", "0", 1500, "2026-11-02T00:00:00", 0),
        row("anthropic", "claude-sonnet-4-5", "success", "0.003", 900, "2026-11-02T12:30:00", 500),
        row("anthropic", "claude-sonnet-4-5", "cancelled", "0.0009", 50, "2026-11-03T08:00:00", 100),
    ]


def summarize(
    services: Services, start: str, end: str, group_by: str | None, tz: str = "UTC", **filters: object
) -> Any:
    usage_filter = UsageFilter(workspace_id=WS, start=at(start), end=at(end), **filters)  # type: ignore[arg-type]
    return services.usage.summary(SummaryRequest(usage_filter, group_by, tz))


def test_seeded_data_set_has_exact_totals(services: Services) -> None:
    # Given five rows across three UTC days
    insert(services, fixed_rows(WS))
    # When summarising by provider over a range whose edges are partial days
    summary = summarize(services, "2026-11-01T06:00:00", "2026-11-03T09:00:00", "provider")
    rows = {r["provider"]: r for r in summary.rows()}
    # Then every number is exact
    assert rows["openai"]["requests"] == 3
    assert rows["openai"]["successes"] == 2
    assert rows["openai"]["failures"] == 1
    assert rows["openai"]["success_rate"] == 0.6667
    assert rows["openai"]["cost_usd"] == Decimal("0.000600000003")
    assert rows["openai"]["input_tokens"] == 4000
    assert rows["openai"]["output_tokens"] == 2000
    assert rows["openai"]["cache_read_tokens"] == 30
    assert rows["anthropic"]["requests"] == 2
    assert rows["anthropic"]["cost_usd"] == Decimal("0.0039")
    assert summary.totals.cost_usd == Decimal("0.004500000003")
    assert summary.totals.requests == 5
    # And a range that starts after the first row excludes it (partial day read from raw rows)
    later = summarize(services, "2026-11-01T10:00:00.000001", "2026-11-03T08:00:00", None)
    assert later.totals.requests == 3
    assert later.totals.cost_usd == Decimal("0.003450000002")


def test_group_by_model_day_month_and_key(services: Services) -> None:
    insert(services, fixed_rows(WS))
    by_model = summarize(services, "2026-11-01", "2026-12-01", "model").rows()
    assert [(r["provider"], r["model"], r["requests"]) for r in by_model] == [
        ("anthropic", "claude-sonnet-4-5", 2),
        ("openai", "gpt-4o-mini", 2),
        ("openai", "gpt-4o", 1),
    ]
    by_day = summarize(services, "2026-11-01", "2026-12-01", "day").rows()
    assert [(r["day"], r["requests"], r["cost_usd"]) for r in by_day] == [
        ("2026-11-01", 2, Decimal("0.000600000003")),
        ("2026-11-02", 2, Decimal("0.003")),
        ("2026-11-03", 1, Decimal("0.0009")),
    ]
    by_month = summarize(services, "2026-10-15T12:00:00", "2026-11-02T12:00:00", "month").rows()
    assert [(r["month"], r["requests"]) for r in by_month] == [("2026-11", 3)]
    by_key = summarize(services, "2026-11-01", "2026-12-01", "key").rows()
    assert by_key[0]["key_id"] == "00000000-0000-4000-8000-0000000000b1"
    assert by_key[0]["requests"] == 5


def test_day_grouping_in_a_timezone_is_exact(services: Services) -> None:
    # 2026-11-01T23:59:59Z is still Nov 1 in UTC but 2026-11-01 18:59 in New York (EST, UTC-5);
    # 2026-11-02T00:00Z is Nov 1 19:00 in New York.
    insert(services, fixed_rows(WS))
    rows = summarize(services, "2026-10-30", "2026-11-05", "day", tz="America/New_York").rows()
    assert [(r["day"], r["requests"]) for r in rows] == [("2026-11-01", 3), ("2026-11-02", 1), ("2026-11-03", 1)]
    tokyo = summarize(services, "2026-10-30", "2026-11-05", "day", tz="Asia/Tokyo").rows()  # UTC+9
    assert [(r["day"], r["requests"]) for r in tokyo] == [("2026-11-01", 1), ("2026-11-02", 3), ("2026-11-03", 1)]


def test_rollup_equals_raw_after_random_inserts(services: Services) -> None:
    rng = random.Random(7)
    keys: list[uuid.UUID | None] = [uuid.uuid4(), uuid.uuid4(), None]
    rows = random_rows(rng, WS, keys, 600, at("2026-10-01"), timedelta(days=10))
    for start in range(0, len(rows), 37):  # many transactions of different sizes
        insert(services, rows[start : start + 37])
    assert rollup_in_db(services) == rollup_from_rows(rows)


def test_grouped_inserts_fold_into_the_same_rollup_as_single_ones(services: Services) -> None:
    # Given groups of records (the execute path's group commit) with repeated rollup keys
    rng = random.Random(5)
    keys: list[uuid.UUID | None] = [uuid.uuid4(), None]
    rows = random_rows(rng, WS, keys, 300, at("2026-10-01"), timedelta(days=3))
    for start in range(0, len(rows), 41):
        with services.sessions.begin() as session:
            UsageRepository(session).add_many([make_record(row) for row in rows[start : start + 41]])
    # Then every row is there and the rollup (sums and latency buckets) equals the raw rows
    assert rollup_in_db(services) == rollup_from_rows(rows)
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(UsageRecord)) == len(rows)


def test_rollup_equals_raw_under_concurrent_inserts(services: Services) -> None:
    # Given 8 writers inserting into the same few rollup cells at once
    rng = random.Random(11)
    batches = [random_rows(rng, WS, [None], 40, at("2026-10-01"), timedelta(hours=30)) for _ in range(8)]
    errors: list[BaseException] = []

    def write(batch: list[Row]) -> None:
        try:
            for row in batch:
                insert(services, [row])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(batch,)) for batch in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = [row for batch in batches for row in batch]
    # Then no increment was lost
    assert rollup_in_db(services) == rollup_from_rows(rows)
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(UsageRecord)) == len(rows)


@pytest.mark.parametrize("group_by", ["provider", "model", "workflow", "agent", "key", "day", "month", None])
def test_summary_matches_python_aggregation(services: Services, group_by: str | None) -> None:
    rng = random.Random(3)
    keys: list[uuid.UUID | None] = [uuid.uuid4(), None]
    rows = random_rows(rng, WS, keys, 400, at("2026-09-28T05:00:00"), timedelta(days=40))
    other = random_rows(rng, uuid.uuid4(), keys, 50, at("2026-09-28"), timedelta(days=40))
    insert(services, rows + other)
    start, end = at("2026-10-01T07:13:00"), at("2026-10-29T16:00:00")
    inside = [r for r in rows if start <= r.created_at < end]

    def key_of(row: Row) -> object:
        return {
            "provider": row.provider,
            "model": (row.provider, row.model),
            "workflow": row.workflow,
            "agent": row.agent,
            "key": str(row.key_id) if row.key_id else None,
            "day": row.created_at.date().isoformat(),
            "month": row.created_at.strftime("%Y-%m"),
            None: (),
        }[group_by]

    expected = reference(inside, key_of)
    summary = summarize(services, start.isoformat()[:19], end.isoformat()[:19], group_by)
    got = {}
    for key, tally in summary.groups.items():
        got[key if group_by in ("model", None) else key[0]] = tally
    assert set(got) == set(expected)
    for key, want in expected.items():
        tally = got[key]
        assert tally.requests == want["requests"]
        assert tally.successes == want["successes"]
        assert tally.cost_usd == want["cost_usd"]  # exact Decimal
        assert [
            tally.input_tokens,
            tally.cache_read_tokens,
            tally.cache_write_tokens,
            tally.output_tokens,
            tally.reasoning_tokens,
        ] == want["tokens"]
        for fraction in (0.5, 0.95):
            exact = exact_percentile(want["latencies"], fraction)
            from_histogram = tally.metrics()["p50_latency_ms" if fraction == 0.5 else "p95_latency_ms"]
            assert exact is not None and from_histogram is not None
            assert abs(from_histogram - exact) <= max(1, 0.2 * exact)
    assert summary.totals.cost_usd == sum((r.cost_usd for r in inside), Decimal(0))


def test_filters_narrow_summaries(services: Services) -> None:
    rng = random.Random(5)
    key = uuid.uuid4()
    rows = random_rows(rng, WS, [key, None], 300, at("2026-10-01"), timedelta(days=5))
    insert(services, rows)
    summary = summarize(services, "2026-10-01", "2026-10-06", None, provider="openai", key_id=key, agent="triage")
    inside = [r for r in rows if r.provider == "openai" and r.key_id == key and r.agent == "triage"]
    assert summary.totals.requests == len(inside)
    assert summary.totals.cost_usd == sum((r.cost_usd for r in inside), Decimal(0))


def test_local_timezone_matches_python(services: Services) -> None:
    rng = random.Random(9)
    rows = random_rows(rng, WS, [None], 300, at("2026-10-20"), timedelta(days=20))  # spans the US DST change
    insert(services, rows)
    zone = ZoneInfo("America/Los_Angeles")
    start, end = at("2026-10-21T03:00:00"), at("2026-11-08T00:00:00")
    expected = reference(
        [r for r in rows if start <= r.created_at < end], lambda r: r.created_at.astimezone(zone).date().isoformat()
    )
    summary = summarize(services, "2026-10-21T03:00:00", "2026-11-08T00:00:00", "day", tz="America/Los_Angeles")
    got = {row["day"]: row for row in summary.rows()}
    assert {k: v["requests"] for k, v in got.items()} == {k: v["requests"] for k, v in expected.items()}
    assert {k: v["cost_usd"] for k, v in got.items()} == {k: v["cost_usd"] for k, v in expected.items()}
    assert start.astimezone(UTC) == start
