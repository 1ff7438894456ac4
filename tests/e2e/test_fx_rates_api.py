"""Exchange rates end to end: the ECB daily XML (a local copy served on 127.0.0.1) refreshed into versioned
rates per USD, the 10% guard, root's manual rate, GET /v1/fx-rates and the staleness in /v1/pricing/status."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import (
    ROOT_KEY,
    LiveServer,
    http_server,
    installed_services,
    make_key,
    make_tenant,
    run_server,
)
from tollgate.pricing.fx import rate_at

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ecb" / "eurofxref-daily.xml"


class Feed:
    def __init__(self) -> None:
        self.body = FIXTURE.read_bytes()
        self.status = 200
        self.url = ""


@pytest.fixture
def feed() -> Iterator[Feed]:
    state = Feed()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(state.status)
            self.send_header("content-type", "text/xml")
            self.send_header("content-length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args: Any) -> None:
            return None

    with http_server(Handler) as url:
        state.url = url + "/stats/eurofxref/eurofxref-daily.xml"
        yield state


@pytest.fixture
def fx_server(db_url: str, tmp_path: Path, feed: Feed) -> Iterator[LiveServer]:
    with installed_services(db_url, tmp_path, fx_url=feed.url) as services, run_server(services) as server:
        yield server


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def rates(server: LiveServer, key: str = ROOT_KEY) -> dict[str, dict[str, Any]]:
    body = httpx.get(f"{server.base_url}/v1/fx-rates", headers=auth(key)).json()
    return {r["currency"]: r for r in body["data"]}


def test_feed_guard_manual_rate_and_status(fx_server: LiveServer, feed: Feed) -> None:
    services = fx_server.services
    base = fx_server.base_url
    # Given nothing fetched yet, the rates are empty and stale
    empty = httpx.get(f"{base}/v1/fx-rates", headers=auth(ROOT_KEY)).json()
    assert empty["data"] == [] and empty["status"]["stale"] is True
    # When the updater reads the ECB document
    report = services.fx_refresher.refresh()
    assert report.status == "applied" and report.date == "2026-11-27" and len(report.changed) == 30
    # Then every rate is per USD through EUR/USD (1 EUR = 1.16 USD), Decimal to 1e-9
    current = rates(fx_server)
    assert current["ZAR"]["rate_per_usd"] == str((Decimal("20.0125") / Decimal("1.16")).quantize(Decimal("1e-9")))
    assert current["ZAR"]["rate_per_usd"] == "17.252155172"
    assert current["EUR"]["rate_per_usd"] == "0.862068966"
    assert current["JPY"]["source"] == "ecb" and "USD" not in current
    status = httpx.get(f"{base}/v1/pricing/status", headers=auth(ROOT_KEY)).json()["fx"]
    assert (status["stale"], status["version"], status["currencies"]) == (False, "2026-11-27", 30)
    # A second identical run writes nothing
    assert services.fx_refresher.refresh().changed == []

    # When the feed moves ZAR by more than 10% in one step, it is refused and the old rate kept
    services.alert_queue.drain()  # type: ignore[attr-defined]
    feed.body = feed.body.replace(b"rate='20.0125'", b"rate='23.0000'")
    rejected = services.fx_refresher.refresh()
    assert rejected.status == "rejected" and "ZAR" in rejected.problems[0]
    assert rates(fx_server)["ZAR"]["rate_per_usd"] == "17.252155172"
    (event,) = services.alert_queue.drain()  # type: ignore[attr-defined]
    assert event["event"] == "pricing.fx_rejected" and event["status"] == "rejected"
    # An unreachable feed is reported, the rates stay
    feed.status = 503
    assert services.fx_refresher.refresh().status == "failed"
    assert rates(fx_server)["ZAR"]["rate_per_usd"] == "17.252155172"

    # Root sets a rate by hand: a new version, the old one kept for the records of its time
    before = services.clock.now()
    put = httpx.put(f"{base}/v1/fx-rates/zar", json={"rate_per_usd": "18.5"}, headers=auth(ROOT_KEY))
    assert put.status_code == 200, put.text
    assert (put.json()["currency"], put.json()["rate_per_usd"], put.json()["source"]) == ("ZAR", "18.5", "manual")
    with services.sessions() as session:
        assert rate_at(session, "ZAR", before) == Decimal("17.252155172")
        assert rate_at(session, "ZAR", services.clock.now()) == Decimal("18.5")
        assert rate_at(session, "USD", before) == Decimal(1)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("XYZ", {"rate_per_usd": "1"}, "path.currency"),
        ("USD", {"rate_per_usd": "1"}, "path.currency"),
        ("EUR", {"rate_per_usd": "0"}, "body.rate_per_usd"),
        ("EUR", {"rate_per_usd": "-1"}, "body.rate_per_usd"),
        ("EUR", {"rate_per_usd": "abc"}, "body.rate_per_usd"),
        ("EUR", {}, "body.rate_per_usd"),
        ("EUR", {"rate_per_usd": "1", "source": "x"}, "body.source"),
    ],
)
def test_put_validation(live_server: LiveServer, path: str, body: dict[str, Any], field: str) -> None:
    response = httpx.put(f"{live_server.base_url}/v1/fx-rates/{path}", json=body, headers=auth(ROOT_KEY))
    assert response.status_code == 400, response.text
    assert field in response.json()["error"]["message"]


def test_only_root_sets_rates_and_any_key_reads(live_server: LiveServer) -> None:
    services = live_server.services
    tenant = make_tenant(services)
    member = make_key(services, tenant.workspace_id, "member")
    for key in (tenant.admin_key, member):
        refused = httpx.put(f"{live_server.base_url}/v1/fx-rates/EUR", json={"rate_per_usd": "0.9"}, headers=auth(key))
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "permission_error"
    assert httpx.get(f"{live_server.base_url}/v1/fx-rates").status_code == 401
    assert httpx.put(f"{live_server.base_url}/v1/fx-rates/EUR", json={"rate_per_usd": "0.9"}, headers=auth(ROOT_KEY))
    assert rates(live_server, member)["EUR"]["rate_per_usd"] == "0.9"


def test_rates_are_a_list_with_limit_and_cursor(live_server: LiveServer) -> None:
    # Given three manual rates
    url = f"{live_server.base_url}/v1/fx-rates"
    for currency, rate in (("GBP", "0.79"), ("EUR", "0.9"), ("ZAR", "18.2")):
        assert httpx.put(f"{url}/{currency}", json={"rate_per_usd": rate}, headers=auth(ROOT_KEY)).status_code == 200
    # When they are read two per page, following next_cursor
    first = httpx.get(url, params={"limit": 2}, headers=auth(ROOT_KEY)).json()
    second = httpx.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(ROOT_KEY)).json()
    # Then the pages hold every rate once, in code order, and the last page has no cursor
    assert [r["currency"] for r in first["data"] + second["data"]] == ["EUR", "GBP", "ZAR"]
    assert first["next_cursor"] is not None and second["next_cursor"] is None
    assert second["status"]["currencies"] == 3
    # And a bad limit or cursor is a 400 naming the query field, as on every list
    for params, field in (
        ({"limit": 0}, "query.limit"),
        ({"limit": 501}, "query.limit"),
        ({"cursor": "%%"}, "query.cursor"),
    ):
        refused = httpx.get(url, params=params, headers=auth(ROOT_KEY))
        assert refused.status_code == 400 and refused.json()["error"]["message"].startswith(field), refused.text
    other = httpx.get(url, params={"cursor": "dXNhZ2V8MTIz"}, headers=auth(ROOT_KEY))  # another list's cursor
    assert other.status_code == 400 and other.json()["error"]["message"].startswith("query.cursor")
