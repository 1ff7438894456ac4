"""A workspace's display currency end to end: USD stays the truth, records show the rate of their time,
summaries and budget status the rate now, exports carry the columns, budget alerts the amounts."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import openai
import pytest

from tests.support import ROOT_KEY, LiveServer, Tenant

HI = [{"role": "user", "content": "a question that costs a little"}]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers.get("content-length", 0)))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    finally:
        server.shutdown()
        server.server_close()


def set_rate(server: LiveServer, currency: str, rate: str) -> None:
    response = httpx.put(
        f"{server.base_url}/v1/fx-rates/{currency}", json={"rate_per_usd": rate}, headers=auth(ROOT_KEY)
    )
    assert response.status_code == 200, response.text


def test_amounts_in_the_display_currency(
    live_server: LiveServer, tenant: Tenant, hook: tuple[str, list[dict[str, Any]]]
) -> None:
    admin = httpx.Client(base_url=live_server.base_url, headers=auth(tenant.admin_key), timeout=10)
    sdk = openai.OpenAI(base_url=live_server.api_url, api_key=tenant.admin_key, max_retries=0)
    # Without a display currency the fields are null
    sdk.chat.completions.create(model="mock/echo", messages=HI, max_tokens=20)  # type: ignore[arg-type]
    (plain,) = admin.get("/v1/usage").json()["data"]
    assert (plain["display_currency"], plain["cost_display"]) == (None, None)

    # Given ZAR as the display currency, a budget with an alert channel, and two calls at two rates
    assert admin.patch("/v1/workspace", json={"display_currency": "ZAR"}).status_code == 200
    channel = admin.post("/v1/alert-channels", json={"type": "webhook", "target": hook[0]}).json()
    budget = admin.post(
        "/v1/budgets",
        json={
            "name": "team",
            "scope": "workspace",
            "period": "monthly",
            "limit_usd": "0.00002",
            "action": "alert_only",
            # A new budget counts the period's spend so far (the first call: about 35% of the limit),
            # so the threshold is one the later calls cross.
            "thresholds": [0.5],
            "channel_ids": [channel["id"]],
        },
    ).json()
    set_rate(live_server, "ZAR", "18.5")
    sdk.chat.completions.create(model="mock/echo", messages=HI, max_tokens=20)  # type: ignore[arg-type]
    set_rate(live_server, "ZAR", "20")
    sdk.chat.completions.create(model="mock/echo", messages=HI, max_tokens=20)  # type: ignore[arg-type]

    # Then each record converts with the rate of its own time (the first call predates any rate)
    newest, middle, oldest = admin.get("/v1/usage").json()["data"]
    assert newest["display_currency"] == "ZAR"
    assert Decimal(newest["cost_display"]) == Decimal(newest["cost_usd"]) * 20
    assert Decimal(middle["cost_display"]) == Decimal(middle["cost_usd"]) * Decimal("18.5")
    assert oldest["cost_display"] is None

    # And summaries convert the USD total with the rate now
    summary = admin.get("/v1/usage/summary", params={"group_by": "model"}).json()
    total = summary["totals"]
    assert total["display_currency"] == "ZAR"
    assert Decimal(total["cost_display"]) == Decimal(total["cost_usd"]) * 20
    assert summary["data"][0]["cost_display"] == total["cost_display"]

    # And budget status shows limit, spent and remaining at the rate now
    status = admin.get(f"/v1/budgets/{budget['id']}/status").json()
    assert status["display_currency"] == "ZAR"
    for name in ("limit", "spent", "remaining"):
        assert Decimal(status[f"{name}_display"]) == Decimal(status[f"{name}_usd"]) * 20

    # And exports carry both columns, per record
    exported = admin.get("/v1/usage/export", params={"format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["cost_display"] for r in rows] == [newest["cost_display"], middle["cost_display"], ""]
    assert {r["display_currency"] for r in rows} == {"ZAR"}
    lines = [json.loads(line) for line in admin.get("/v1/usage/export", params={"format": "jsonl"}).text.splitlines()]
    assert lines[0]["cost_display"] == newest["cost_display"]

    # And the threshold alert carries the display amounts next to the USD ones
    worker = live_server.services.alert_worker
    assert worker is not None
    worker.run_once()
    alert = hook[1][-1]
    assert alert["event"] == "budget.threshold_crossed" and alert["display_currency"] == "ZAR"
    assert Decimal(alert["limit_display"]) == Decimal(alert["limit_usd"]) * 20
    assert Decimal(alert["spent_display"]) == Decimal(alert["spent_usd"]) * 20
    # USD stays the truth: the stored costs did not change
    assert admin.get("/v1/usage").json()["data"][0]["cost_usd"] == newest["cost_usd"]
