"""The budgets and sweeper Lambda handlers invoked with the sample events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import update

from functions.budgets.handler import handler as budgets_handler
from functions.sweeper.handler import handler as sweeper_handler
from tests.integration.budgets.test_alert_delivery import Ctx
from tests.integration.budgets.test_guard import ctx, spec
from tests.support import Tenant, load_event
from tollgate.db.models import Reservation
from tollgate.wiring import Services


def authed(name: str, key: str) -> dict[str, object]:
    event = load_event(name)
    event["headers"] = {**event["headers"], "authorization": f"Bearer {key}"}
    return event


def test_budgets_handler_creates_and_reports_status(services: Services, tenant: Tenant) -> None:
    created = budgets_handler(authed("budgets/create_budget.json", tenant.admin_key), Ctx())  # type: ignore[arg-type]
    assert created["statusCode"] == 201, created["body"]
    body = json.loads(created["body"])
    assert (body["timezone"], body["limit_usd"], body["action"]) == ("Europe/Berlin", "100", "block")
    status = budgets_handler(authed("budgets/status_all.json", tenant.admin_key), Ctx())  # type: ignore[arg-type]
    assert json.loads(status["body"])["data"][0]["budget_id"] == body["id"]
    history = authed("budgets/history.json", tenant.admin_key)
    history["rawPath"] = history["rawPath"].replace("00000000-0000-0000-0000-000000000000", body["id"])  # type: ignore[union-attr]
    answer = budgets_handler(history, Ctx())  # type: ignore[arg-type]
    assert len(json.loads(answer["body"])["days"]) == 7


def test_budgets_handler_rejects_missing_key_and_refuses_unsafe_channel(services: Services, tenant: Tenant) -> None:
    unauthenticated = load_event("budgets/create_budget.json")
    assert budgets_handler(unauthenticated, Ctx())["statusCode"] == 401  # type: ignore[arg-type]
    event = authed("budgets/create_alert_channel.json", tenant.admin_key)
    event["body"] = json.dumps({"type": "webhook", "target": "https://169.254.169.254/latest/meta-data"})
    answer = budgets_handler(event, Ctx())  # type: ignore[arg-type]
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"])["error"]["code"] == "unsafe_target"


def test_sweeper_handler_releases_expired_reservations(services: Services, tenant: Tenant) -> None:
    services.budget_service.create(tenant.workspace_id, spec())
    services.budget_guard.admit(ctx(tenant), Decimal("0.25"))
    with services.sessions.begin() as session:
        session.execute(update(Reservation).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    result = sweeper_handler(load_event("sweeper/scheduled.json"), Ctx())  # type: ignore[arg-type]
    assert result == {
        "released": 1,
        "released_usd": "0.25",
        "alerts_republished": 0,
        "probe": {"probed": 0, "recovered": 0},  # no credential is cooling down
    }
