"""The execute core holds no thread per call: hundreds of calls wait upstream at once while /health
and management routes still answer, every call reserved, settled and recorded; request context
follows the request (never another request's workspace in a log line); an exhausted database
pool answers 503, not 500."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import sessionmaker

from tests.fake_providers.slow_openai import slow_upstream
from tests.fakes.credentials import FakeCredentialSource
from tests.support import make_tenant, run_server
from tollgate.db.models import Reservation, UsageRecord
from tollgate.execution.blocking import BlockingPool
from tollgate.observability import RedactingFormatter
from tollgate.wiring import Services

CALLS, STREAMS = 150, 50
MESSAGES = [{"role": "user", "content": "hello"}]


def _bounded_wait(condition: Any, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


async def _fire(url: str, key: str) -> list[tuple[int, str]]:
    headers = {"authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=CALLS + STREAMS + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def call(stream: bool) -> tuple[int, str]:
            body = {"model": "openai/gpt-4o-mini", "messages": MESSAGES, "max_tokens": 8, "stream": stream}
            response = await client.post(url, json=body, headers=headers)
            return response.status_code, response.text

        jobs = [call(False) for _ in range(CALLS)] + [call(True) for _ in range(STREAMS)]
        return list(await asyncio.gather(*jobs))


def test_health_and_management_answer_while_hundreds_of_calls_wait_upstream(services: Services) -> None:
    # Two threads for database steps and two for management routes: far fewer than the calls in flight.
    services.blocking = BlockingPool(2)
    source = FakeCredentialSource(services.sessions, cache_ttl_s=30.0)
    services.credentials = source
    tenant = make_tenant(services)
    with slow_upstream(4.0) as (upstream_url, upstream), run_server(services, workers=2) as server:
        source.add(tenant.workspace_id, "openai", "slow", upstream_url, "sk-slow-upstream")
        admin = {"authorization": f"Bearer {tenant.admin_key}"}
        budget = {"name": "cap", "scope": "workspace", "period": "monthly", "limit_usd": "1000", "action": "block"}
        created = httpx.post(f"{server.api_url}/budgets", json=budget, headers=admin)
        assert created.status_code == 201, created.text

        results: list[tuple[int, str]] = []
        runner = threading.Thread(
            target=lambda: results.extend(asyncio.run(_fire(f"{server.api_url}/chat/completions", tenant.admin_key)))
        )
        runner.start()
        _bounded_wait(lambda: upstream.arrived - upstream.answered >= 150)
        health = httpx.get(f"{server.base_url}/health", timeout=30)
        listed = httpx.get(f"{server.api_url}/budgets", headers=admin, timeout=30)
        waiting_after = upstream.arrived - upstream.answered
        runner.join(timeout=120)
        status = httpx.get(f"{server.api_url}/budgets/{created.json()['id']}/status", headers=admin).json()

    assert health.status_code == 200 and listed.status_code == 200
    assert waiting_after >= 100  # both answered while >= 100 calls were still waiting upstream
    assert len(results) == CALLS + STREAMS
    assert all(status == 200 for status, _ in results), [r for r in results if r[0] != 200][:3]
    assert all(text.rstrip().endswith("data: [DONE]") for _, text in results[CALLS:])
    with services.sessions() as session:
        rows = session.scalar(select(func.count()).select_from(UsageRecord).where(UsageRecord.status == "success"))
        spent = session.scalar(select(func.sum(UsageRecord.cost_usd)))
        left = session.scalar(select(func.count()).select_from(Reservation))
    assert rows == CALLS + STREAMS
    assert left == 0
    assert spent is not None and Decimal(spent) > 0
    assert Decimal(status["spent_usd"]) == Decimal(spent) and Decimal(status["reserved_usd"]) == 0


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(RedactingFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def log_lines() -> Iterator[_Lines]:
    target = logging.getLogger("tollgate")
    handler, level = _Lines(), target.level
    target.addHandler(handler)
    target.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        target.removeHandler(handler)
        target.setLevel(level)


def test_a_request_never_logs_another_requests_workspace(services: Services, log_lines: _Lines) -> None:
    first, second = make_tenant(services, "first"), make_tenant(services, "second")
    expected: dict[str, str | None] = {}
    with run_server(services, workers=1) as server:  # one management thread: it serves everyone in turn

        def execute(tenant_key: str, workspace: str) -> None:
            body = {"model": "nowhere/unknown-model", "messages": MESSAGES}
            response = httpx.post(
                f"{server.api_url}/chat/completions", json=body, headers={"authorization": f"Bearer {tenant_key}"}
            )
            assert response.status_code >= 400
            expected[response.headers["x-request-id"]] = workspace

        threads = [
            threading.Thread(target=execute, args=(t.admin_key, str(t.workspace_id))) for t in (first, second) * 10
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for tenant in (first, second):
            # A management route served for a workspace, then an unauthenticated one on the same thread.
            models = httpx.get(f"{server.api_url}/models", headers={"authorization": f"Bearer {tenant.admin_key}"})
            assert models.status_code == 200
            anonymous = httpx.get(f"{server.api_url}/keys")
            assert anonymous.status_code == 401
            expected[anonymous.headers["x-request-id"]] = None
    by_request = [line for line in log_lines.lines if line.get("request_id") in expected]
    assert {line["request_id"] for line in by_request} == set(expected)  # every request logged its failure
    for line in by_request:
        assert line.get("workspace_id") == expected[line["request_id"]], line


def test_an_exhausted_database_pool_answers_503_not_500(services: Services) -> None:
    tenant = make_tenant(services)
    engine = create_engine(services.database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    services.engine = engine
    services.sessions = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    services.authenticator.forget()
    admin = {"authorization": f"Bearer {tenant.admin_key}"}
    with run_server(services) as server:
        warm = httpx.get(f"{server.api_url}/budgets", headers=admin)  # the key is now cached
        assert warm.status_code == 200
        with engine.connect():  # the pool's only connection is taken
            blocked = httpx.get(f"{server.api_url}/budgets", headers=admin, timeout=30)
            chat = httpx.post(
                f"{server.api_url}/chat/completions",
                json={"model": "mock/echo", "messages": MESSAGES},
                headers=admin,
                timeout=30,
            )
    engine.dispose()
    for response in (blocked, chat):
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert (error["type"], error["code"]) == ("internal_error", "service_unavailable")
        assert error["request_id"] == response.headers["x-request-id"]
