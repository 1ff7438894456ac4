"""200 concurrent requests (PostgreSQL; 40 on SQLite) race one `block` budget through the live server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
from sqlalchemy import func, select

from tests.fakes.slow_provider import SlowMockProvider
from tests.integration.budgets.conftest import api, budget_body
from tests.support import Tenant, run_server
from tollgate.db.models import Reservation, UsageRecord
from tollgate.pricing.calculator import worst_case_cost
from tollgate.pricing.tokens import estimate_prompt_tokens
from tollgate.providers.registry import ProviderRegistry
from tollgate.wiring import Services

MESSAGES = [{"role": "user", "content": "x" * 400}]  # echo is longer than max_tokens: cost == worst case
MAX_TOKENS = 20


def test_concurrent_requests_never_overspend_a_block_budget(services: Services, tenant: Tenant) -> None:
    requests, fits = (200, 50) if services.engine.dialect.name == "postgresql" else (40, 10)
    services.providers = ProviderRegistry({"mock": SlowMockProvider(0.05)})
    price = services.prices.current("mock", "echo")
    assert price is not None
    per_call = worst_case_cost(estimate_prompt_tokens("mock", "echo", {"messages": MESSAGES}), MAX_TOKENS, price)
    limit = per_call * fits
    with run_server(services) as server, api(server, tenant.admin_key) as client:
        created = client.post("/v1/budgets", json=budget_body(limit_usd=str(limit)))
        assert created.status_code == 201, created.text

        def call(_: int) -> int:
            with httpx.Client(timeout=60) as c:
                response = c.post(
                    f"{server.api_url}/chat/completions",
                    headers={"authorization": f"Bearer {tenant.admin_key}"},
                    json={"model": "mock/echo", "messages": MESSAGES, "max_tokens": MAX_TOKENS},
                )
            if response.status_code == 402:
                assert response.json()["error"]["budget_id"] == created.json()["id"]
            return response.status_code

        with ThreadPoolExecutor(max_workers=64) as pool:
            statuses = list(pool.map(call, range(requests)))
        status = client.get(f"/v1/budgets/{created.json()['id']}/status").json()
    assert set(statuses) <= {200, 402}
    successes = statuses.count(200)
    assert successes == fits  # actual cost equals the reserved worst case: exactly the N that fit
    with services.sessions() as session:
        spent = session.scalar(select(func.sum(UsageRecord.cost_usd)).where(UsageRecord.status == "success"))
        left = session.scalar(select(func.count()).select_from(Reservation))
    assert spent is not None and Decimal(spent) <= limit
    assert left == 0
    assert Decimal(status["spent_usd"]) == Decimal(spent)
    assert (Decimal(status["reserved_usd"]), Decimal(status["remaining_usd"])) == (Decimal(0), Decimal(0))
