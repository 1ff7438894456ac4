"""The usage Lambda handler with sample API Gateway events, and the `tollgate usage` commands."""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from functions.usage.handler import handler
from tests.fakes.lambda_context import FakeLambdaContext
from tests.integration.usage.seed import at, insert, random_rows
from tests.support import Tenant, installed_services, load_event, make_tenant
from tollgate.cli import app as cli_app
from tollgate.wiring import Services

CONTEXT = FakeLambdaContext("tollgate-usage")


def with_key(event: dict[str, Any], key: str) -> dict[str, Any]:
    event["headers"] = {**event["headers"], "authorization": f"Bearer {key}"}
    return event


@pytest.fixture
def seeded_tenant(services: Services) -> tuple[Tenant, int, Decimal]:
    tenant = make_tenant(services)
    rows = random_rows(
        random.Random(2), tenant.workspace_id, [tenant.admin_key_id], 60, at("2026-11-02"), timedelta(days=9)
    )
    for row in rows[:10]:
        row.provider, row.model = "mock", "echo"
    insert(services, rows)
    return tenant, len(rows), sum((r.cost_usd for r in rows), Decimal(0))


def test_handler_lists_and_summarises(seeded_tenant: tuple[Tenant, int, Decimal]) -> None:
    tenant, count, cost = seeded_tenant
    listed = handler(with_key(load_event("usage/list_usage.json"), tenant.admin_key), CONTEXT)
    assert listed["statusCode"] == 200, listed["body"]
    page = json.loads(listed["body"])
    assert len(page["data"]) == 2 and page["next_cursor"]
    assert {r["provider"] for r in page["data"]} == {"mock"}
    summary = handler(with_key(load_event("usage/summary_by_provider.json"), tenant.admin_key), CONTEXT)
    body = json.loads(summary["body"])
    assert body["totals"]["requests"] == count
    assert Decimal(body["totals"]["cost_usd"]) == cost
    executions = handler(with_key(load_event("usage/executions_by_agent.json"), tenant.admin_key), CONTEXT)
    assert executions["statusCode"] == 200
    unauthenticated = handler(load_event("usage/list_usage.json"), CONTEXT)
    assert unauthenticated["statusCode"] == 401


@pytest.fixture
def capped(db_url: str, tmp_path: Path) -> Iterator[Services]:
    with installed_services(db_url, tmp_path, export_max_bytes=4000) as built:
        yield built


def test_lambda_export_is_capped_and_continues_with_the_cursor(capped: Services) -> None:
    # Given more rows than fit under the (test-sized) response cap
    tenant = make_tenant(capped)
    rows = random_rows(random.Random(4), tenant.workspace_id, [None], 80, at("2026-11-02"), timedelta(days=2))
    insert(capped, rows)
    seen: list[str] = []
    cursor = None
    for _ in range(40):
        event = with_key(load_event("usage/export_csv.json"), tenant.admin_key)
        if cursor:
            event["queryStringParameters"] = {**event["queryStringParameters"], "cursor": cursor}
        result = handler(event, CONTEXT)
        assert result["statusCode"] == 200
        assert len(result["body"].encode()) <= 4000
        seen.extend(r["request_id"] for r in csv.DictReader(io.StringIO(result["body"])))
        cursor = result["headers"].get("x-tollgate-next-cursor")
        if cursor is None:
            break
        assert result["headers"]["x-tollgate-export-truncated"] == "true"
    # Then following the cursor yields every row exactly once
    assert sorted(seen) == sorted(r.request_id for r in rows)


def test_cli_export_and_report(services: Services, tmp_path: Path) -> None:
    tenant = make_tenant(services)
    rows = random_rows(random.Random(8), tenant.workspace_id, [None], 50, at("2026-11-02"), timedelta(days=5))
    insert(services, rows)
    runner = CliRunner()
    out = tmp_path / "usage.csv"
    db = ["--db", services.database_url]
    result = runner.invoke(
        cli_app, ["usage", "export", "--workspace", str(tenant.workspace_id), "--out", str(out), *db]
    )
    assert result.exit_code == 0, result.output
    exported = list(csv.DictReader(out.open()))
    assert len(exported) == 50
    assert sum(Decimal(r["cost_usd"]) for r in exported) == sum(r.cost_usd for r in rows)
    jsonl = tmp_path / "usage.jsonl"
    args = ["usage", "export", "--workspace", str(tenant.workspace_id), "--format", "jsonl", "--out", str(jsonl)]
    assert runner.invoke(cli_app, [*args, *db]).exit_code == 0
    assert len(jsonl.read_text().splitlines()) == 50

    chart = tmp_path / "cost.html"
    window = ["--from", "2026-11-01", "--to", "2026-11-08"]
    report = runner.invoke(
        cli_app, ["usage", "report", "--workspace", str(tenant.workspace_id), *window, "--chart", str(chart), *db]
    )
    assert report.exit_code == 0, report.output
    total = sum((r.cost_usd for r in rows), Decimal(0))
    from tollgate.money import format_usd

    assert format_usd(total) in report.output
    for provider in {r.provider for r in rows}:
        assert provider in report.output
    html = chart.read_text()
    assert html.startswith("<!doctype html>") and "<svg" in html and "<polyline" in html
    png = runner.invoke(
        cli_app, ["usage", "report", "--workspace", str(tenant.workspace_id), "--chart", str(tmp_path / "c.png"), *db]
    )
    assert png.exit_code != 0
    bad = runner.invoke(cli_app, ["usage", "report", "--workspace", "nope", *db])
    assert bad.exit_code != 0
    empty = runner.invoke(cli_app, ["usage", "report", "--workspace", str(uuid.uuid4()), *db])
    assert empty.exit_code == 0
