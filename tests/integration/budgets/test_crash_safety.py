"""Crash safety on SQLite and PostgreSQL: a call whose upstream request started is never lost from spend.

The sweeper charges an expired reservation marked ``upstream_started_at`` as an ``estimated`` usage
row (``status="interrupted"``, cost = the reserved worst case, budget spent updated) and releases
only reservations whose upstream call never started. A call cancelled while the provider answers (a
server shutting down) is charged the same way at once, by the execute path. The last test kills a real
``tollgate serve`` process with SIGKILL while its provider call is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.fake_providers import openai_server
from tests.fake_providers.base import FakeProvider, Recorded, Reply, running
from tests.fakes.credentials import FakeCredentialSource
from tests.integration.budgets.test_guard import counter, ctx, spec
from tests.support import ROOT_KEY, Tenant, free_port, wait_until_answers
from tollgate.budgets.sweeper import ReservationSweeper
from tollgate.db.models import Reservation, UsageRecord
from tollgate.execution.attribution import Attribution
from tollgate.execution.call import ExecuteCall
from tollgate.wiring import Services

UPSTREAM_KEY = "sk-crash-safety-" + "e" * 24


class _At:
    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now


def _sweeper_after_expiry(services: Services) -> ReservationSweeper:
    later = datetime.now(UTC) + timedelta(seconds=services.settings.reservation_ttl_s + 60)
    return ReservationSweeper(services.sessions, _At(later), services.alert_outbox)


def _usage(services: Services) -> list[UsageRecord]:
    with services.sessions() as session:
        return list(session.scalars(select(UsageRecord)))


def _held(services: Services) -> list[Reservation]:
    with services.sessions() as session:
        return list(session.scalars(select(Reservation)))


def test_started_reservation_is_charged_not_released(services: Services, tenant: Tenant) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec(limit_usd=Decimal("5")))
    call = ctx(tenant, provider="openai", model="gpt-4o-mini", workflow="wf", agent="ag")
    admission = services.budget_guard.admit(call, Decimal("0.42"))
    services.budget_guard.mark_started(admission)
    assert _held(services)[0].upstream_started_at is not None

    result = _sweeper_after_expiry(services).sweep()

    assert (result.charged, result.charged_usd, result.released) == (1, Decimal("0.42"), 0)
    [row] = _usage(services)
    assert (row.request_id, row.status, row.error_type) == (call.request_id, "interrupted", "upstream_interrupted")
    assert (row.estimated, row.cost_usd) == (True, Decimal("0.42"))
    assert (row.provider, row.model, row.workflow, row.agent, row.key_id) == (
        "openai",
        "gpt-4o-mini",
        "wf",
        "ag",
        tenant.admin_key_id,
    )
    state = counter(services, budget.id)
    assert (state.spent_usd, state.reserved_usd) == (Decimal("0.42"), Decimal(0))
    assert _held(services) == []
    # the budget's status (what clients see) counts it
    assert services.budget_service.status(tenant.workspace_id, budget.id).spent_usd == Decimal("0.42")


def test_unstarted_reservation_is_released_and_started_one_charged_in_the_same_sweep(
    services: Services, tenant: Tenant
) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec(limit_usd=Decimal("5")))
    services.budget_guard.admit(ctx(tenant), Decimal("0.30"))  # its call never went out
    call = ctx(tenant)
    services.budget_guard.mark_started(services.budget_guard.admit(call, Decimal("0.20")))
    assert counter(services, budget.id).reserved_usd == Decimal("0.50")

    result = _sweeper_after_expiry(services).sweep()

    assert (result.released, result.released_usd) == (1, Decimal("0.30"))
    assert (result.charged, result.charged_usd) == (1, Decimal("0.20"))
    assert [r.request_id for r in _usage(services)] == [call.request_id]
    state = counter(services, budget.id)
    assert (state.spent_usd, state.reserved_usd) == (Decimal("0.20"), Decimal(0))
    assert _held(services) == []
    again = _sweeper_after_expiry(services).sweep()  # exactly once
    assert (again.charged, again.released) == (0, 0)


def test_a_request_with_several_budgets_gets_one_row_and_every_counter_charged(
    services: Services, tenant: Tenant
) -> None:
    first = services.budget_service.create(tenant.workspace_id, spec(name="a", limit_usd=Decimal("5")))
    second = services.budget_service.create(tenant.workspace_id, spec(name="b", limit_usd=Decimal("7")))
    call = ctx(tenant)
    services.budget_guard.mark_started(services.budget_guard.admit(call, Decimal("0.25")))
    assert len(_held(services)) == 2

    result = ReservationSweeper(
        services.sessions,
        _At(datetime.now(UTC) + timedelta(seconds=services.settings.reservation_ttl_s + 60)),
        services.alert_outbox,
        batch=1,  # one request per batch: its rows still travel together
    ).sweep()

    assert (result.charged, result.charged_usd) == (1, Decimal("0.25"))
    assert [(r.request_id, r.cost_usd) for r in _usage(services)] == [(call.request_id, Decimal("0.25"))]
    for budget in (first, second):
        state = counter(services, budget.id)
        assert (state.spent_usd, state.reserved_usd) == (Decimal("0.25"), Decimal(0))


def test_a_late_settle_after_the_sweeper_charged_does_not_count_the_call_twice(
    services: Services, tenant: Tenant
) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec(limit_usd=Decimal("5")))
    call = ctx(tenant)
    admission = services.budget_guard.admit(call, Decimal("0.40"))
    services.budget_guard.mark_started(admission)
    _sweeper_after_expiry(services).sweep()
    # the call comes back after all and tries to write its real row: request_id is unique, so the
    # whole settle transaction rolls back and the sweeper's charge stands alone
    row = UsageRecord(
        id=uuid.uuid4(),
        workspace_id=tenant.workspace_id,
        request_id=call.request_id,
        provider="mock",
        model="echo",
        requested_model="echo",
        tags=[],
        status="success",
        cost_usd=Decimal("0.10"),
        created_at=datetime.now(UTC),
    )
    from tollgate.db.repositories.usage import UsageRepository

    try:
        with services.sessions.begin() as session:
            UsageRepository(session).add(row)
            services.budget_guard.settle(session, admission, Decimal("0.10"))
    except Exception as exc:  # IntegrityError on both dialects
        assert "unique" in str(exc).lower() or "duplicate" in str(exc).lower()
    else:
        raise AssertionError("the second usage row for one request was accepted")
    state = counter(services, budget.id)
    assert (state.spent_usd, state.reserved_usd) == (Decimal("0.40"), Decimal(0))
    assert len(_usage(services)) == 1


def test_a_call_cancelled_while_the_provider_answers_is_charged_at_once(services: Services, tenant: Tenant) -> None:
    arrived = threading.Event()
    release = threading.Event()

    def slow(recorded: Recorded) -> Reply:
        arrived.set()
        release.wait(30)
        return Reply(body=openai_server.completion())

    budget = services.budget_service.create(tenant.workspace_id, spec(limit_usd=Decimal("10")))
    source = FakeCredentialSource(services.sessions)
    services.credentials = source
    chat = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 500}
    call = ExecuteCall(
        workspace_id=tenant.workspace_id,
        key_id=tenant.admin_key_id,
        request_id="req_cancelled_mid_call",
        body=chat,
        attribution=Attribution(),
    )

    async def cancel_mid_call() -> None:
        task = asyncio.ensure_future(services.execute.execute(call))
        while not arrived.is_set():
            await asyncio.sleep(0.01)
        task.cancel()  # what a server shutting down does to its in-flight requests
        with pytest.raises(asyncio.CancelledError):
            await task

    with running(FakeProvider(slow)) as fake:
        source.add(tenant.workspace_id, "openai", "main", fake.url + "/v1", UPSTREAM_KEY)
        try:
            asyncio.run(cancel_mid_call())
        finally:
            release.set()

    # Then the call is charged at its reserved worst case right away, with no reservation left to sweep
    [row] = _usage(services)
    assert (row.status, row.error_type, row.estimated) == ("interrupted", "upstream_interrupted", True)
    assert row.cost_usd > 0 and row.request_id == "req_cancelled_mid_call"
    state = counter(services, budget.id)
    assert (state.spent_usd, state.reserved_usd) == (row.cost_usd, Decimal(0))
    assert _held(services) == []


# -- a real process killed mid-call ---------------------------------------------------------------


@contextmanager
def _serve(database_url: str, home: Path) -> Iterator[subprocess.Popen[bytes]]:
    port = free_port()
    env = {
        **os.environ,
        "TOLLGATE_ROOT_KEY": ROOT_KEY,
        "TOLLGATE_HOME": str(home),
        "TOLLGATE_ALLOW_LOCAL_NETWORK": "true",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tollgate.cli", "serve", "--port", str(port), "--db", database_url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    process.base_url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    try:
        wait_until_answers(f"{process.base_url}/health", process)  # type: ignore[attr-defined]
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)


def test_a_server_killed_mid_call_is_charged_by_the_sweeper(services: Services, tenant: Tenant, tmp_path: Path) -> None:
    arrived = threading.Event()
    release = threading.Event()

    def slow(recorded: Recorded) -> Reply:
        arrived.set()
        release.wait(30)  # the provider is still working when the gateway dies
        return Reply(body=openai_server.completion())

    budget = services.budget_service.create(tenant.workspace_id, spec(limit_usd=Decimal("10")))
    with running(FakeProvider(slow)) as fake, _serve(services.database_url, tmp_path / "serve-home") as server:
        base = server.base_url  # type: ignore[attr-defined]
        auth = {"Authorization": f"Bearer {tenant.admin_key}"}
        created = httpx.post(
            f"{base}/v1/credentials",
            json={"provider": "openai", "name": "main", "api_key": UPSTREAM_KEY, "base_url": fake.url + "/v1"},
            headers=auth,
        )
        assert created.status_code == 201, created.text
        chat = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 500}

        def call() -> None:
            with contextlib.suppress(httpx.HTTPError):  # the server dies under it
                httpx.post(f"{base}/v1/chat/completions", json=chat, headers=auth, timeout=60)

        caller = threading.Thread(target=call, daemon=True)
        caller.start()
        assert arrived.wait(30), "the provider never saw the call"
        # When the gateway process is killed while the provider is answering
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=15)
        release.set()
        caller.join(timeout=30)

    # Then the reservation survived, marked started, and nothing was recorded or spent yet
    [held] = _held(services)
    assert held.upstream_started_at is not None
    assert _usage(services) == []
    reserved = counter(services, budget.id).reserved_usd
    assert reserved == held.amount_usd > 0

    # When the sweeper runs past the reservation's expiry
    result = _sweeper_after_expiry(services).sweep()

    # Then the call is charged at its reserved worst case, as an estimated interrupted row
    assert (result.charged, result.charged_usd, result.released) == (1, reserved, 0)
    [row] = _usage(services)
    assert (row.status, row.estimated, row.cost_usd) == ("interrupted", True, reserved)
    assert (row.provider, row.model, row.key_id) == ("openai", "gpt-4o-mini", tenant.admin_key_id)
    state = counter(services, budget.id)
    assert (state.spent_usd, state.reserved_usd) == (reserved, Decimal(0))
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Reservation)) == 0
