"""The budgets and sweeper Lambda handlers invoked with the sample events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from functions.budgets.handler import handler as budgets_handler
from functions.sweeper.handler import handler as sweeper_handler
from tests.fakes.lambda_context import FakeLambdaContext
from tests.integration.budgets.test_guard import ctx, spec
from tests.support import Tenant, load_event
from tollgate.db.models import Reservation
from tollgate.wiring import Services


def authed(name: str, key: str) -> dict[str, Any]:
    event = load_event(name)
    event["headers"] = {**event["headers"], "authorization": f"Bearer {key}"}
    return event


def test_budgets_handler_creates_and_reports_status(services: Services, tenant: Tenant) -> None:
    created = budgets_handler(authed("budgets/create_budget.json", tenant.admin_key), FakeLambdaContext())
    assert created["statusCode"] == 201, created["body"]
    body = json.loads(created["body"])
    assert (body["timezone"], body["limit_usd"], body["action"]) == ("Europe/Berlin", "100", "block")
    status = budgets_handler(authed("budgets/status_all.json", tenant.admin_key), FakeLambdaContext())
    assert json.loads(status["body"])["data"][0]["budget_id"] == body["id"]
    history = authed("budgets/history.json", tenant.admin_key)
    history["rawPath"] = history["rawPath"].replace("00000000-0000-0000-0000-000000000000", body["id"])
    answer = budgets_handler(history, FakeLambdaContext())
    assert len(json.loads(answer["body"])["days"]) == 7


def test_budgets_handler_rejects_missing_key_and_refuses_unsafe_channel(services: Services, tenant: Tenant) -> None:
    unauthenticated = load_event("budgets/create_budget.json")
    assert budgets_handler(unauthenticated, FakeLambdaContext())["statusCode"] == 401
    event = authed("budgets/create_alert_channel.json", tenant.admin_key)
    event["body"] = json.dumps({"type": "webhook", "target": "https://169.254.169.254/latest/meta-data"})
    answer = budgets_handler(event, FakeLambdaContext())
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"]["code"] == "unsafe_target"


def test_sweeper_handler_releases_expired_reservations(services: Services, tenant: Tenant) -> None:
    services.budget_service.create(tenant.workspace_id, spec())
    services.budget_guard.admit(ctx(tenant), Decimal("0.25"))
    with services.sessions.begin() as session:
        session.execute(update(Reservation).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    result = sweeper_handler(load_event("sweeper/scheduled.json"), FakeLambdaContext())
    assert result == {
        "released": 1,
        "released_usd": "0.25",
        "charged": 0,
        "charged_usd": "0",
        "alerts_republished": 0,
        "probe": {"probed": 0, "recovered": 0},  # no credential is cooling down
    }


def emf_records(output: str) -> list[dict]:  # type: ignore[type-arg]
    """The CloudWatch embedded-metric-format objects Powertools printed."""
    records = []
    for line in output.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            records.append(json.loads(line))
    return records


def value(emf: object) -> object:
    """One datapoint; EMF may write it as a scalar or a one-element list."""
    if isinstance(emf, list):
        (single,) = emf
        return single
    return emf


def test_sweeper_handler_charges_a_started_call_and_publishes_the_metrics(
    services: Services, tenant: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    services.budget_service.create(tenant.workspace_id, spec())
    services.budget_guard.mark_started(services.budget_guard.admit(ctx(tenant), Decimal("0.40")))
    with services.sessions.begin() as session:
        session.execute(update(Reservation).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    result = sweeper_handler(load_event("sweeper/scheduled.json"), FakeLambdaContext())
    assert (result["charged"], result["charged_usd"], result["released"]) == (1, "0.4", 0)
    [record] = emf_records(capsys.readouterr().out)
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Tollgate"
    assert (value(record["ReservationsCharged"]), value(record["ReservationsReleased"])) == (1.0, 0.0)
    assert value(record["ReservationsChargedUsd"]) == 0.4
    assert record["Stage"] == services.settings.stage
