"""Key limits on SQLite and PostgreSQL: the per-minute window is shared by every instance (each instance is
its own ``KeyLimiter`` with its own cache), exact under concurrency, and resets with the minute."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.support import Tenant
from tollgate.db.models import KeyRateWindow
from tollgate.errors import BudgetExceeded, PermissionDenied, RateLimited
from tollgate.keys.limits import KeyLimiter
from tollgate.wiring import Services


@dataclass(frozen=True)
class Model:
    provider: str
    model: str


class SettableClock:
    def __init__(self, now: datetime) -> None:
        self.value = now

    def now(self) -> datetime:
        return self.value


def limited_key(services: Services, tenant: Tenant, **limits: object) -> uuid.UUID:
    created = services.gateway_keys.create(tenant.workspace_id, "limited", "member", limits)
    return created.row.id


def free(_: Model) -> Decimal:
    return Decimal(0)


def test_rpm_window_is_shared_by_instances_and_resets_next_minute(services: Services, tenant: Tenant) -> None:
    key_id = limited_key(services, tenant, rpm_limit=3)
    clock = SettableClock(datetime(2026, 5, 4, 10, 0, 20, tzinfo=UTC))
    one, two = KeyLimiter(services.sessions, clock), KeyLimiter(services.sessions, clock)
    candidates = [Model("mock", "echo")]
    # Given three requests admitted across two instances in one minute
    one.admit(key_id, candidates, free)
    two.admit(key_id, candidates, free)
    one.admit(key_id, candidates, free)
    # When a fourth arrives at either instance, it is refused with the seconds left in the window
    for limiter in (one, two):
        with pytest.raises(RateLimited) as limited:
            limiter.admit(key_id, candidates, free)
        assert limited.value.code == "rpm_limit_exceeded" and limited.value.headers["retry-after"] == "40"
    # Then the next minute starts a new window
    clock.value += timedelta(seconds=45)
    two.admit(key_id, candidates, free)
    with services.sessions() as session:
        window = session.get(KeyRateWindow, key_id)
        assert window is not None and window.requests == 1
        assert window.window_start == datetime(2026, 5, 4, 10, 1, tzinfo=UTC)


def test_racing_requests_admit_exactly_the_limit(services: Services, tenant: Tenant) -> None:
    key_id = limited_key(services, tenant, rpm_limit=7)
    clock = SettableClock(datetime(2026, 5, 4, 10, 0, 1, tzinfo=UTC))
    limiters = [KeyLimiter(services.sessions, clock) for _ in range(4)]
    admitted: list[int] = []
    refused: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def call(index: int) -> None:
        start.wait()
        try:
            limiters[index % 4].admit(key_id, [Model("mock", "echo")], free)
            outcome = admitted
        except RateLimited:
            outcome = refused
        with lock:
            outcome.append(index)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert (len(admitted), len(refused)) == (7, 13)


def test_tokens_recorded_by_any_instance_count_against_tpm(services: Services, tenant: Tenant) -> None:
    key_id = limited_key(services, tenant, tpm_limit=1000)
    clock = SettableClock(datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC))
    recorder, admitter = KeyLimiter(services.sessions, clock), KeyLimiter(services.sessions, clock)
    admitter.admit(key_id, [Model("mock", "echo")], free)
    with services.sessions.begin() as session:
        recorder.count_tokens(session, key_id, 600)
    admitter.admit(key_id, [Model("mock", "echo")], free)
    with services.sessions.begin() as session:
        recorder.count_tokens(session, key_id, 400)
    with pytest.raises(RateLimited) as limited:
        admitter.admit(key_id, [Model("mock", "echo")], free)
    assert limited.value.code == "tpm_limit_exceeded"
    # tokens recorded after the minute rolled over start the new window
    clock.value += timedelta(minutes=1)
    with services.sessions.begin() as session:
        recorder.count_tokens(session, key_id, 5)
    with services.sessions() as session:
        window = session.get(KeyRateWindow, key_id)
        assert window is not None and (window.requests, window.tokens) == (0, 5)
    admitter.admit(key_id, [Model("mock", "echo")], free)


def test_globs_cap_and_cache(services: Services, tenant: Tenant) -> None:
    key_id = limited_key(
        services, tenant, allowed_models=["openai/gpt-4o-mini*", "custom/llama-?b"], max_cost_per_request_usd="0.01"
    )
    clock = SettableClock(datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC))
    limiter = KeyLimiter(services.sessions, clock)
    candidates = [Model("openai", "gpt-4o"), Model("openai", "gpt-4o-mini-2024"), Model("custom", "llama-8b")]
    # disallowed candidates are dropped, the order of the rest kept
    kept = limiter.admit(key_id, candidates, lambda _: Decimal("0.01"))
    assert kept == candidates[1:]
    with pytest.raises(PermissionDenied) as denied:
        limiter.admit(key_id, [Model("anthropic", "claude-sonnet-4-5")], free)
    assert denied.value.code == "model_not_allowed"
    with pytest.raises(BudgetExceeded) as capped:
        limiter.admit(key_id, candidates, lambda _: Decimal("0.010000000001"))
    assert capped.value.code == "max_cost_per_request"
    assert capped.value.details == {"limit_usd": "0.01", "worst_case_usd": "0.010000000001"}
    # a PATCH through the service applies at once on the instance that made it (forget), and the
    # limits of a key without any are the free path (None)
    services.gateway_keys.update(tenant.workspace_id, key_id, {"allowed_models": None})
    services.key_limiter.limits(key_id)
    services.gateway_keys.update(tenant.workspace_id, key_id, {"max_cost_per_request_usd": None})
    assert services.key_limiter.limits(key_id) is None
