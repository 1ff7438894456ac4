"""The database going away before and in the middle of a request (SQLite and real PostgreSQL).

The gateway must fail closed with the documented error shape, never call the provider when it
cannot account for the call, and end with consistent budget counters once the database is back:
no usage row doubled, the reservation settled or charged by the sweeper, reserved back to zero
and spent equal to the recorded usage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from tests.fake_providers.base import Recorded
from tests.long_calls import ledger
from tests.reliability.conftest import DatabaseOutage, HookedUpstream, admin_client
from tests.support import LiveServer, Tenant, assert_error, make_key
from tollgate.budgets.sweeper import ReservationSweeper

UPSTREAM_KEY = "sk-test-reliability-" + "d" * 24
CHAT = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 64}


class _FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


def _setup(server: LiveServer, tenant: Tenant, upstream: HookedUpstream) -> httpx.Client:
    admin = admin_client(server, tenant)
    created = admin.post(
        "/v1/credentials",
        json={"provider": "openai", "name": "main", "api_key": UPSTREAM_KEY, "base_url": upstream.fake.url + "/v1"},
    )
    assert created.status_code == 201, created.text
    budget = admin.post(
        "/v1/budgets",
        json={"name": "team", "scope": "workspace", "period": "monthly", "limit_usd": "10", "action": "block"},
    )
    assert budget.status_code == 201, budget.text
    return admin


@pytest.mark.parametrize("key", ["fresh", "cached"])
def test_database_down_before_the_request_is_503_and_the_provider_is_not_called(
    live_server: LiveServer, tenant: Tenant, upstream: HookedUpstream, outage: DatabaseOutage, key: str
) -> None:
    admin = _setup(live_server, tenant, upstream)
    # Given a gateway key that is either unseen (authentication needs the database) or already
    # cached by the authenticator (credential resolution is the first to need it), and the database gone
    secret = make_key(live_server.services, tenant.workspace_id) if key == "fresh" else tenant.admin_key
    outage.start()
    response = httpx.post(
        live_server.base_url + "/v1/chat/completions", json=CHAT, headers={"Authorization": f"Bearer {secret}"}
    )
    # Then the call is refused closed, in the documented shape, before any provider is called
    error = assert_error(response, 503, "internal_error", "service_unavailable")
    assert UPSTREAM_KEY not in response.text and secret not in response.text
    assert "try again" in error["message"]
    assert upstream.fake.requests == []
    # And once the database is back the gateway serves again and nothing was half-recorded
    outage.stop()
    assert ledger(live_server.services) == ([], Decimal(0), Decimal(0), 0)
    assert admin.post("/v1/chat/completions", json=CHAT).status_code == 200
    assert len(upstream.fake.requests) == 1


def test_database_down_with_warm_caches_still_fails_closed_before_the_provider(
    live_server: LiveServer, tenant: Tenant, upstream: HookedUpstream, outage: DatabaseOutage
) -> None:
    admin = _setup(live_server, tenant, upstream)
    # Given a first call warmed every cache (gateway key, decrypted credential, budget list, health)
    assert admin.post("/v1/chat/completions", json=CHAT).status_code == 200
    outage.start()
    # When the database is gone for the second call
    response = admin.post("/v1/chat/completions", json=CHAT)
    outage.stop()
    # Then the budget reservation cannot be made: 503, and the provider saw only the first call
    assert_error(response, 503, "internal_error", "service_unavailable")
    assert len(upstream.fake.requests) == 1
    rows, spent, reserved, held = ledger(live_server.services)
    assert [r.status for r in rows] == ["success"]
    assert (spent, reserved, held) == (rows[0].cost_usd, Decimal(0), 0)


def test_database_lost_after_admission_fails_closed_and_the_sweeper_restores_the_counters(
    live_server: LiveServer, tenant: Tenant, upstream: HookedUpstream, outage: DatabaseOutage
) -> None:
    services = live_server.services
    admin = _setup(live_server, tenant, upstream)
    assert admin.post("/v1/chat/completions", json=CHAT).status_code == 200  # one fully accounted call

    # Given the database goes away while the provider is answering the second call
    # (its budget reservation was committed before the provider was called)
    def pull_the_plug(_: Recorded) -> None:
        if len(upstream.fake.requests) == 2:
            outage.start()

    upstream.before_reply.append(pull_the_plug)
    response = admin.post("/v1/chat/completions", json=CHAT)
    # Then the client gets a clear error in the documented shape, not the unaccounted answer
    assert_error(response, 503, "internal_error", "service_unavailable")
    assert "choices" not in response.json()
    assert UPSTREAM_KEY not in response.text and tenant.admin_key not in response.text
    assert len(upstream.fake.requests) == 2

    # When the database returns
    outage.stop()
    rows, spent, reserved, held = ledger(services)
    # the lost call left its reservation behind (marked started: the provider was called) and no usage row
    assert [r.status for r in rows] == ["success"]
    assert held == 1 and reserved > 0
    # and the sweeper, run past the reservation's expiry, charges it (estimated) exactly once:
    # the provider answered, so the call is never lost from spend
    later = datetime.now(UTC) + timedelta(seconds=services.settings.reservation_ttl_s + 60)
    sweeper = ReservationSweeper(services.sessions, _FixedClock(later), services.alert_outbox)
    first = sweeper.sweep()
    assert (first.charged, first.charged_usd, first.released) == (1, reserved, 0)
    assert sweeper.sweep().charged == 0
    # Then the counters are consistent: nothing reserved, spent == the usage recorded (incl. the estimate)
    rows, spent, reserved, held = ledger(services)
    assert [(r.status, r.estimated) for r in rows] == [("success", False), ("interrupted", True)]
    assert len({r.request_id for r in rows}) == len(rows) == 2
    assert (reserved, held) == (Decimal(0), 0)
    assert spent == sum(r.cost_usd for r in rows)
    # And the gateway serves normally again
    assert admin.post("/v1/chat/completions", json=CHAT).status_code == 200
    rows, spent, reserved, held = ledger(services)
    assert len(rows) == 3 and spent == sum(r.cost_usd for r in rows) and (reserved, held) == (Decimal(0), 0)
