"""Canned answers shaped exactly like docs/api.md, for rendering the screens whose APIs are
not on this branch. They check that the page draws data of the documented shapes; the needs_api tests in
test_dashboard_contract.py check the real routes once merged."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Route

TODAY = datetime.now(UTC).date()
DAYS = [TODAY - timedelta(days=offset) for offset in range(29, -1, -1)]
DAY_COST = {"openai": Decimal("0.0420"), "anthropic": Decimal("0.0155"), "mock": Decimal("0.000054")}


def day_groups(provider: str | None, since: date) -> list[dict[str, Any]]:
    groups = []
    for index, day in enumerate(DAYS):
        if day < since:
            continue
        factor = Decimal(1 + index % 4)
        costs = {p: c * factor for p, c in DAY_COST.items() if provider in (None, p)}
        groups.append({"day": day.isoformat(), "requests": 10 * int(factor), "cost_usd": str(sum(costs.values()))})
    return groups


def provider_groups() -> list[dict[str, Any]]:
    return [
        {"provider": "openai", "requests": 120, "successes": 114, "cost_usd": "1.3440", "p50_latency_ms": 420},
        {"provider": "anthropic", "requests": 60, "successes": 60, "cost_usd": "0.4960", "p50_latency_ms": 610},
        {"provider": "mock", "requests": 20, "successes": 20, "cost_usd": "0.001728", "p50_latency_ms": 1},
    ]


NAMED: dict[str, list[tuple[str | None, str]]] = {
    "model": [("gpt-4o-mini", "0.9000"), ("claude-sonnet-4-5", "0.4960"), ("gpt-4o", "0.4440"), ("echo", "0.001728")],
    "workflow": [("onboarding", "1.1000"), ("support-triage", "0.6000"), (None, "0.141728")],
    "agent": [("greeter", "0.9000"), ("summarizer", "0.9417")],
}

BUDGETS: list[dict[str, Any]] = [
    {
        "id": "7f1c0000-0000-4000-8000-000000000001",
        "name": "Team monthly",
        "scope": "workspace",
        "scope_value": None,
        "period": "monthly",
        "timezone": "UTC",
        "limit_usd": "50.00",
        "thresholds": [0.5, 0.75, 0.9, 1.0],
        "action": "block",
        "downgrade_model": None,
        "channel_ids": [],
    },
    {
        "id": "7f1c0000-0000-4000-8000-000000000002",
        "name": "Summarizer daily",
        "scope": "agent",
        "scope_value": "summarizer",
        "period": "daily",
        "timezone": "Europe/Berlin",
        "limit_usd": "1.00",
        "thresholds": [0.5, 0.9, 1.0],
        "action": "downgrade",
        "downgrade_model": "openai/gpt-4o-mini",
        "channel_ids": [],
    },
]
STATUS = {
    BUDGETS[0]["id"]: ("31.20", "0.80", "18.00", [0.5]),
    BUDGETS[1]["id"]: ("1.04", "0.00", "0.00", [0.5, 0.9, 1.0]),
}
CHANNELS = [
    {
        "id": "9a000000-0000-4000-8000-000000000001",
        "type": "slack",
        "target": "https://hooks.slack.example/T000/B000",
        "created_at": "2026-01-02T10:00:00Z",
    }
]
CREDENTIALS = [
    {
        "id": "c1000000-0000-4000-8000-000000000001",
        "provider": "openai",
        "name": "openai-main",
        "key_hint": "sk-...a1b2",
        "has_key": True,
        "base_url": "https://api.openai.com/v1",
        "default_model": "gpt-4o-mini",
        "options": {},
        "priority": 10,
        "is_primary": True,
        "is_active": True,
        "rotated_at": None,
    },
    {
        "id": "c1000000-0000-4000-8000-000000000002",
        "provider": "anthropic",
        "name": "anthropic-backup",
        "key_hint": "sk-...9z8y",
        "has_key": True,
        "base_url": "https://api.anthropic.com",
        "default_model": None,
        "options": {},
        "priority": 20,
        "is_primary": False,
        "is_active": False,
        "rotated_at": "2026-01-05T09:00:00Z",
    },
]
PRICES = [
    {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "input_per_1m": "0.15",
        "output_per_1m": "0.60",
        "cache_read_per_1m": "0.075",
        "cache_write_per_1m": None,
        "reasoning_per_1m": None,
        "source": "litellm",
        "effective_from": "2026-01-03T00:00:00Z",
    },
    {
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "input_per_1m": "3.00",
        "output_per_1m": "15.00",
        "cache_read_per_1m": "0.30",
        "cache_write_per_1m": "3.75",
        "reasoning_per_1m": None,
        "source": "openrouter",
        "effective_from": "2026-01-04T00:00:00Z",
    },
    {
        "provider": "mock",
        "model": "echo",
        "input_per_1m": "0.15",
        "output_per_1m": "0.60",
        "cache_read_per_1m": None,
        "cache_write_per_1m": None,
        "reasoning_per_1m": None,
        "source": "manual",
        "effective_from": "2025-01-01T00:00:00Z",
    },
]
RECORDS: list[dict[str, Any]] = [
    {
        "request_id": f"req_{i}",
        "provider": p,
        "model": m,
        "requested_model": m,
        "status": s,
        "error_type": e,
        "workflow": "onboarding",
        "agent": "greeter",
        "tags": [],
        "input_tokens": 1200 + i,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "output_tokens": 300,
        "reasoning_tokens": 0,
        "cost_usd": "0.00036",
        "price_id": None,
        "estimated": False,
        "stream": False,
        "fallback_from": None,
        "latency_ms": 400 + i,
        "created_at": f"{TODAY.isoformat()}T0{i}:00:00Z",
    }
    for i, (p, m, s, e) in enumerate(
        [
            ("openai", "gpt-4o-mini", "success", None),
            ("anthropic", "claude-sonnet-4-5", "success", None),
            ("openai", "gpt-4o-mini", "error", "provider_unavailable"),
        ]
    )
]


def spend_since(since: date) -> Decimal:
    return sum((Decimal(g["cost_usd"]) for g in day_groups(None, since)), Decimal(0))


def _summary(query: dict[str, str]) -> Any:
    group_by = query["group_by"]
    since = date.fromisoformat(query.get("from", DAYS[0].isoformat())[:10])
    if group_by == "day":
        return {"data": day_groups(query.get("provider"), since)}
    if group_by == "provider":
        return {"data": provider_groups()}
    return {
        "data": [{group_by: name, "requests": 10, "successes": 10, "cost_usd": cost} for name, cost in NAMED[group_by]]
    }


def _budget_status(budget_id: str) -> dict[str, Any]:
    spent, reserved, remaining, crossed = STATUS[budget_id]
    budget = next(b for b in BUDGETS if b["id"] == budget_id)
    start = TODAY.replace(day=1)
    return {
        "budget_id": budget_id,
        "limit_usd": budget["limit_usd"],
        "spent_usd": spent,
        "reserved_usd": reserved,
        "remaining_usd": remaining,
        "period_start": f"{start}T00:00:00Z",
        "period_end": f"{(start + timedelta(days=32)).replace(day=1)}T00:00:00Z",
        "thresholds_crossed": crossed,
    }


def _post(path: str, body: dict[str, Any]) -> tuple[int, Any]:
    if path == "/v1/budgets":
        try:
            valid = Decimal(str(body.get("limit_usd"))) > 0
        except ArithmeticError:
            valid = False
        if not valid:
            return 400, {
                "error": {
                    "type": "invalid_request_error",
                    "code": "validation_error",
                    "message": "body.limit_usd: must be greater than 0",
                    "request_id": "req_fake",
                }
            }
        created = {**body, "id": f"7f1c0000-0000-4000-8000-00000000000{len(BUDGETS) + 1}"}
        BUDGETS.append(created)
        STATUS[created["id"]] = ("0", "0", body["limit_usd"], [])
        return 201, created
    if path in ("/v1/credentials/test", *(f"/v1/credentials/{c['id']}/test" for c in CREDENTIALS)):
        return 200, {"ok": True, "latency_ms": 42}
    if path == "/v1/credentials":
        key = body.pop("api_key")
        created = {
            **body,
            "id": "c1000000-0000-4000-8000-000000000003",
            "key_hint": f"sk-...{key[-4:]}",
            "has_key": True,
            "is_active": True,
            "rotated_at": None,
        }
        CREDENTIALS.append(created)
        return 201, created
    if path.startswith("/v1/alert-channels/") and path.endswith("/test"):
        return 200, {"ok": True}
    return 404, {
        "error": {"type": "not_found_error", "code": "unknown_route", "message": "fake", "request_id": "req_fake"}
    }


def answer(path: str, query: dict[str, str], method: str, body: dict[str, Any]) -> tuple[int, Any] | None:
    if method == "POST":
        return _post(path, body)
    routes: dict[str, Any] = {
        "/v1/usage/summary": lambda: _summary(query),
        "/v1/pricing/status": lambda: {
            "stale": True,
            "last_success": "2026-01-06T08:00:00Z",
            "model_count": len(PRICES),
            "sources": {"litellm": "sha-1"},
        },
        "/v1/pricing": lambda: {"data": PRICES, "next_cursor": None},
        "/v1/budgets": lambda: {"data": BUDGETS, "next_cursor": None},
        "/v1/budgets/status": lambda: {"data": [_budget_status(b["id"]) for b in BUDGETS]},
        "/v1/alert-channels": lambda: {"data": CHANNELS, "next_cursor": None},
        "/v1/credentials": lambda: {"data": CREDENTIALS, "next_cursor": None},
        "/v1/usage": lambda: {"data": RECORDS, "next_cursor": None},
    }
    handler = routes.get(path)
    return (200, handler()) if handler else None


_ORIGINALS = {name: copy.deepcopy(globals()[name]) for name in ("BUDGETS", "STATUS", "CREDENTIALS")}


def install(page: Any) -> None:
    """Answer the contract routes in the browser; everything else goes to the real server."""
    for name, value in _ORIGINALS.items():  # each test starts from the same data
        target = globals()[name]
        target.clear()
        target.update(copy.deepcopy(value)) if isinstance(target, dict) else target.extend(copy.deepcopy(value))

    def handle(route: Route) -> None:
        request = route.request
        parts = urlsplit(request.url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/v1/usage/export":
            route.fulfill(status=200, content_type="text/csv", body="request_id,cost_usd\nreq_0,0.00036\n")
            return
        body = json.loads(request.post_data or "{}") if request.method == "POST" else {}
        result = answer(parts.path, query, request.method, body)
        if result is None:
            route.continue_()
            return
        status, payload = result
        route.fulfill(status=status, content_type="application/json", body=json.dumps(payload))

    page.route("**/v1/**", handle)
