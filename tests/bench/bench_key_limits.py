"""Benchmark: the key limits check before a call (target ≤ 0.3 ms p50), on PostgreSQL (pgserver) and SQLite.

Cases: a key without limits (the common path: one cache lookup), a key with allowed_models (20 globs)
and a per-request cap (in-process only), and a key with an RPM limit (one atomic upsert per request).

Run: PYTHONPATH=shared:. python -m tests.bench.bench_key_limits [iterations]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tests.support import PostgresCluster, make_services, make_tenant, start_postgres
from tollgate.keys.limits import KeyLimiter
from tollgate.wiring import Services


@dataclass(frozen=True)
class Model:
    provider: str
    model: str


CANDIDATES = [Model("openai", "gpt-4o-mini"), Model("anthropic", "claude-haiku-4-5")]
GLOBS = [f"openai/gpt-{i}*" for i in range(18)] + ["openai/gpt-4o-mini*", "anthropic/*"]


def measure(label: str, one: Callable[[], object], iterations: int) -> None:
    for _ in range(min(200, iterations)):
        one()
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        one()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p50, p99 = statistics.median(samples), samples[int(len(samples) * 0.99) - 1]
    print(f"{label:<58} p50 {p50:.4f} ms  p99 {p99:.4f} ms  n={iterations}", flush=True)


def run(services: Services, database: str, iterations: int) -> None:
    tenant = make_tenant(services)
    limiter: KeyLimiter = services.key_limiter
    cost = Decimal("0.0001")

    def key(**limits: object) -> uuid.UUID:
        return services.gateway_keys.create(tenant.workspace_id, "bench", "member", limits).row.id

    plain = key()
    listed = key(allowed_models=GLOBS, max_cost_per_request_usd="0.05")
    rated = key(rpm_limit=2_000_000_000, allowed_models=GLOBS)
    measure(f"{database}: no limits", lambda: limiter.admit(plain, CANDIDATES, lambda _: cost), iterations)
    measure(
        f"{database}: 20 globs + per-request cap", lambda: limiter.admit(listed, CANDIDATES, lambda _: cost), iterations
    )
    measure(
        f"{database}: 20 globs + rpm window upsert",
        lambda: limiter.admit(rated, CANDIDATES, lambda _: cost),
        iterations,
    )


def main() -> None:
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    base = Path(tempfile.mkdtemp(prefix="tollgate-bench-"))
    sqlite = make_services(f"sqlite:///{base / 'bench.db'}", base)
    try:
        run(sqlite, "SQLite", iterations)
    finally:
        sqlite.close()
    print("starting PostgreSQL…", flush=True)
    url, server = start_postgres(base)
    try:
        services = make_services(PostgresCluster(url).fresh_database(), base)
        try:
            run(services, "PostgreSQL", iterations)
        finally:
            services.close()
    finally:
        if server is not None:
            server.cleanup()


if __name__ == "__main__":
    main()
