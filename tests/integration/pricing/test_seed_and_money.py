"""First-start seeding of the packaged snapshot, and Decimal money through both databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from tests.integration.pricing.conftest import FeedServer
from tests.pricing_data import SNAPSHOT_MODELS, snapshot_document
from tests.support import make_services
from tollgate.bootstrap import prepare_database
from tollgate.db.models import ModelPrice, UsageRecord, Workspace
from tollgate.pricing.calculator import PriceRow, cost_of
from tollgate.pricing.snapshot import load_snapshot
from tollgate.pricing.status import read_status
from tollgate.providers.base import Usage
from tollgate.wiring import Services


def _feed_rows(services: Services) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).where(ModelPrice.source == "litellm")) or 0)


def test_first_start_seeds_the_snapshot_once(db_url: str, tmp_path: Path, feeds: FeedServer) -> None:
    feeds.serve_json("/litellm.json", snapshot_document())
    services = make_services(
        db_url, tmp_path, pricing_litellm_url=feeds.base + "/litellm.json", pricing_openrouter_url=""
    )
    try:
        feed, generated_at = load_snapshot()
        assert _feed_rows(services) == len(feed.prices) == SNAPSHOT_MODELS
        price = services.prices.current("openai", "gpt-4o")
        assert price is not None and price.input_per_1m == Decimal("2.5") and price.effective_from == generated_at
        # a second start seeds nothing
        prepare_database(services)
        assert _feed_rows(services) == SNAPSHOT_MODELS
        # the feed serves the map the snapshot was cut from: refreshing writes 0 rows (only the status row changes)
        report = services.pricing_refresher.refresh()
        assert report.ok and report.rows_written == 0
    finally:
        services.close()


def test_cost_at_1e_minus_10_survives_both_databases(services: Services) -> None:
    # Given a usage row whose cost is one ten-billionth of a dollar, and a price with 9 decimals
    tiny = PriceRow(None, "custom", "tiny", "manual", Decimal("0.000000001"), Decimal("0.0001"))
    cost = cost_of(Usage(output_tokens=1), tiny)
    assert cost == Decimal("1E-10")
    with services.sessions.begin() as session:
        workspace = Workspace(id=uuid.uuid4(), name="money")
        session.add(workspace)
        session.flush()
        session.add(
            ModelPrice(
                provider="custom",
                model="tiny",
                source="manual",
                input_per_1m=Decimal("0.000000001"),
                output_per_1m=Decimal("0.0001"),
                effective_from=datetime.now(UTC),
            )
        )
        record = UsageRecord(
            id=uuid.uuid4(),
            workspace_id=workspace.id,
            request_id="req-money",
            provider="custom",
            model="tiny",
            requested_model="custom/tiny",
            status="success",
            input_tokens=0,
            cache_read_tokens=0,
            cache_write_tokens=0,
            output_tokens=1,
            reasoning_tokens=0,
            cost_usd=cost,
            estimated=False,
            latency_ms=1,
            stream=False,
            tags=[],
            created_at=datetime.now(UTC),
        )
        session.add(record)
    # When they are read back
    with services.sessions() as session:
        stored = session.scalar(select(UsageRecord.cost_usd).where(UsageRecord.request_id == "req-money"))
        rate = session.scalar(select(ModelPrice.input_per_1m).where(ModelPrice.model == "tiny"))
        total = session.scalar(select(func.sum(UsageRecord.cost_usd)))
    # Then nothing went through a float
    assert stored == Decimal("1E-10") and isinstance(stored, Decimal)
    assert rate == Decimal("0.000000001")
    assert total is not None and Decimal(total) == Decimal("1E-10")


def test_a_fresh_install_prices_openrouter_models_from_the_snapshot(db_url: str, tmp_path: Path) -> None:
    from tollgate.pricing.snapshot import load_openrouter_snapshot

    services = make_services(db_url, tmp_path)
    try:
        feed = load_openrouter_snapshot()
        assert feed is not None and len(feed.prices) > 300
        price = services.prices.current("openrouter", "openai/gpt-4o-mini")
        assert price is not None and price.source == "openrouter" and price.input_per_1m == Decimal("0.15")
        with services.sessions() as session:
            status = read_status(session, services.clock.now(), services.settings.pricing_stale_after_s)
        assert status.source_versions["openrouter"]["status"] == "seeded"
    finally:
        services.close()
