"""Benchmark: reserve + settle latency on PostgreSQL (pgserver) and 200 concurrent requests on one budget.

Run: PYTHONPATH=shared:. python -m tests.bench.bench_budgets [iterations]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from tests.support import PostgresCluster, make_services, make_tenant, start_postgres
from tollgate.budgets.guard import SpendContext
from tollgate.budgets.periods import Period
from tollgate.budgets.spec import Action, BudgetSpec, Scope
from tollgate.db.models import BudgetCounter, Reservation


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    base = Path(tempfile.mkdtemp(prefix="tollgate-bench-"))
    print("starting PostgreSQL…", flush=True)
    url, server = start_postgres(base)
    try:
        services = make_services(PostgresCluster(url).fresh_database(), base)
        tenant = make_tenant(services)
        spec = BudgetSpec(
            "bench", Scope.WORKSPACE, None, Period.MONTHLY, "Europe/Berlin", Decimal(1000), action=Action.BLOCK
        )
        budget = services.budget_service.create(tenant.workspace_id, spec)
        guard = services.budget_guard

        def one() -> float:
            context = SpendContext(
                tenant.workspace_id, tenant.admin_key_id, "mock", "echo", None, None, uuid.uuid4().hex
            )
            started = time.perf_counter()
            admission = guard.admit(context, Decimal("0.001"))
            with services.sessions.begin() as session:
                guard.settle(session, admission, Decimal("0.0005"))
            return (time.perf_counter() - started) * 1000

        for _ in range(100):
            one()
        samples = []
        for i in range(iterations):
            samples.append(one())
            if (i + 1) % 500 == 0:
                print(f"  {i + 1}/{iterations}", flush=True)
        samples.sort()
        p50, p99 = statistics.median(samples), samples[int(len(samples) * 0.99) - 1]
        print(f"reserve+settle (1 budget, PostgreSQL, sequential): p50 {p50:.3f} ms  p99 {p99:.3f} ms  n={iterations}")

        # 200 concurrent reserve+settle pairs racing one block budget that fits 120 of them
        race = services.budget_service.create(
            tenant.workspace_id,
            BudgetSpec("race", Scope.WORKFLOW, "race", Period.DAILY, "UTC", Decimal("0.120"), action=Action.BLOCK),
        )
        del budget

        def racer(_: int) -> bool:
            context = SpendContext(tenant.workspace_id, None, "mock", "echo", "race", None, uuid.uuid4().hex)
            try:
                admission = guard.admit(context, Decimal("0.001"))
            except Exception:
                return False
            with services.sessions.begin() as session:
                guard.settle(session, admission, Decimal("0.001"))
            return True

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=32) as pool:
            results = list(pool.map(racer, range(200)))
        elapsed = time.perf_counter() - started
        with services.sessions() as session:
            spent = session.scalar(select(func.sum(BudgetCounter.spent_usd)).where(BudgetCounter.budget_id == race.id))
            left = session.scalar(select(func.count()).select_from(Reservation))
        print(
            f"200 concurrent on one budget: {200 / elapsed:.0f} req/s, admitted {sum(results)} (fits 120), "
            f"spent {spent} of 0.120, overspend {max(Decimal(0), Decimal(spent or 0) - Decimal('0.120'))}, "
            f"reservations left {left}"
        )
        services.close()
    finally:
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    main()
