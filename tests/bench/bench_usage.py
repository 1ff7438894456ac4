"""Benchmark: usage summaries and CSV export over 1M usage rows in PostgreSQL.

Run: PYTHONPATH=$PWD/shared:$PWD python -m tests.bench.bench_usage [--rows 1000000]

Loads rows with COPY (pgserver, or TEST_DATABASE_URL), builds usage_daily with one INSERT … SELECT
(the same cells and histogram the write path produces; checked against the raw rows), then
times summaries by provider / model / day over the last 30 days (range edges are partial days,
so the raw-row part of the query is exercised too) and a CSV export of every row (rows/s, RSS).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.support import make_services, start_postgres
from tollgate.db.models import UsageDaily
from tollgate.usage.export import ExportRequest
from tollgate.usage.filters import UsageFilter
from tollgate.usage.latency import BUCKETS, COLUMNS, LOWER_BOUNDS
from tollgate.usage.summary import SummaryRequest
from tollgate.wiring import Services

PROVIDERS = {
    "openai": ["gpt-4o", "gpt-4o-mini", "o3-mini"],
    "anthropic": ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"],
    "gemini": ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.0-flash"],
    "deepseek": ["deepseek-chat", "deepseek-reasoner", "deepseek-coder"],
}
AGENTS = [(f"workflow-{i % 6}", f"agent-{i}") for i in range(12)]  # each agent belongs to one workflow
NULL = "\\N"  # COPY text format


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 1e6


def load_rows(services: Services, workspace: uuid.UUID, count: int, now: datetime) -> None:
    rng = random.Random(1)
    keys = [uuid.uuid4() for _ in range(len(AGENTS) * 2)]
    models = [(p, m) for p, ms in PROVIDERS.items() for m in ms]
    span = 30 * 86400
    raw = services.engine.raw_connection()
    try:
        cursor = raw.cursor()
        columns = (
            "id, workspace_id, request_id, key_id, provider, model, requested_model, workflow, agent, tags, status, "
            "error_type, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, "
            "cost_usd, estimated, latency_ms, stream, created_at"
        )
        started = time.perf_counter()
        with cursor.copy(f"COPY usage_records ({columns}) FROM STDIN") as copy:
            buffer = io.StringIO()
            for i in range(count):
                provider, model = rng.choice(models)
                a = rng.randrange(len(AGENTS))
                workflow, agent = AGENTS[a]
                ok = rng.random() < 0.95
                tokens = (rng.randint(10, 4000), rng.randint(0, 1000), rng.randint(0, 200), rng.randint(1, 1500), 0)
                cost = Decimal(rng.randint(1, 50_000_000)) / Decimal(10**12)
                when = now - timedelta(seconds=rng.random() * span)
                buffer.write(
                    f"{uuid.uuid4()}\t{workspace}\treq_{i:024x}\t{keys[a * 2 + rng.randrange(2)]}\t{provider}\t"
                    f"{model}\t{provider}/{model}\t{workflow}\t{agent}\t[]\t{'success' if ok else 'error'}\t"
                    f"{NULL if ok else 'provider_unavailable'}\t{tokens[0]}\t{tokens[1]}\t{tokens[2]}\t{tokens[3]}\t"
                    f"{tokens[4]}\t{cost}\tf\t{int(rng.lognormvariate(6.5, 0.8))}\tf\t{when.isoformat()}\n"
                )
                if (i + 1) % 50_000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
                if (i + 1) % 100_000 == 0:
                    print(f"  copied {i + 1:>9,} rows  ({(i + 1) / (time.perf_counter() - started):,.0f} rows/s)")
            copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()


def build_rollup(services: Services) -> None:
    """usage_daily exactly as UsageRepository.add would have built it, in one statement."""
    bucket = "CASE " + " ".join(f"WHEN latency_ms < {LOWER_BOUNDS[k + 1]} THEN {k}" for k in range(BUCKETS - 1))
    bucket += f" ELSE {BUCKETS - 1} END"
    hist = ", ".join(f"count(*) FILTER (WHERE b = {k})" for k in range(BUCKETS))
    dims = "workspace_id, (created_at AT TIME ZONE 'UTC')::date, provider, model, coalesce(workflow, ''), "
    dims += "coalesce(agent, ''), coalesce(key_id::text, '')"
    sums = (
        "count(*), count(*) FILTER (WHERE status = 'success'), count(*) FILTER (WHERE status <> 'success'), "
        "sum(input_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(output_tokens), "
        "sum(reasoning_tokens), sum(cost_usd), sum(latency_ms), max(created_at)"
    )
    names = "workspace_id, day, provider, model, workflow, agent, key_id, requests, successes, failures, "
    names += "input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, reasoning_tokens, cost_usd, "
    names += f"latency_ms_sum, updated_at, {', '.join(COLUMNS)}"
    sql = (
        f"INSERT INTO usage_daily ({names}) SELECT {dims}, {sums}, {hist} "
        f"FROM (SELECT *, {bucket} AS b FROM usage_records) r GROUP BY 1, 2, 3, 4, 5, 6, 7"
    )
    with services.engine.begin() as connection:
        connection.execute(text(sql))
        connection.execute(text("ANALYZE usage_records"))
        connection.execute(text("ANALYZE usage_daily"))
        cells = connection.execute(text("SELECT count(*) FROM usage_daily")).scalar_one()
        raw_sum = connection.execute(text("SELECT sum(cost_usd), count(*) FROM usage_records")).one()
        rolled = connection.execute(text("SELECT sum(cost_usd), sum(requests) FROM usage_daily")).one()
    assert tuple(raw_sum) == tuple(rolled), (raw_sum, rolled)
    print(f"  usage_daily: {cells:,} cells; cost sum {rolled[0]} over {rolled[1]:,} rows equals the raw rows")
    assert UsageDaily.__tablename__ == "usage_daily"


def time_summaries(services: Services, workspace: uuid.UUID, now: datetime, runs: int) -> list[tuple[str, ...]]:
    start = now - timedelta(days=30)
    table: list[tuple[str, ...]] = []
    for group_by in ("provider", "model", "day", None):
        request = SummaryRequest(UsageFilter(workspace, start=start, end=now), group_by)
        services.usage.summary(request)  # warm-up (plans, pool)
        timings = []
        for _ in range(runs):
            t0 = time.perf_counter()
            summary = services.usage.summary(request)
            timings.append((time.perf_counter() - t0) * 1000)
        timings.sort()
        label = f"summary by {group_by or '(total)'}"
        p95 = timings[min(len(timings) - 1, int(0.95 * len(timings)))]
        table.append(
            (
                label,
                f"{len(summary.groups)}",
                f"{statistics.median(timings):.1f}",
                f"{p95:.1f}",
                f"{summary.totals.requests:,}",
            )
        )
        print(f"  {label}: median {statistics.median(timings):.1f} ms")
    return table


def time_export(services: Services, workspace: uuid.UUID, out: Path) -> tuple[float, int, float, float, float]:
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(rss_mb())
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    before = rss_mb()
    rows = 0

    def progress(n: int) -> None:
        nonlocal rows
        previous, rows = rows, rows + n
        if previous // 100_000 != rows // 100_000:
            print(f"  exported {rows:>9,} rows  rss {rss_mb():.0f} MB")

    sampler.start()
    t0 = time.perf_counter()
    with out.open("wb") as sink:
        for chunk in services.usage.export(ExportRequest(UsageFilter(workspace), "csv"), on_rows=progress):
            sink.write(chunk)
    elapsed = time.perf_counter() - t0
    done.set()
    sampler.join()
    quarter = max(1, len(samples) // 4)
    return elapsed, rows, before, max(samples[:quarter]), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tollgate-bench-") as tmp:
        base = Path(tmp)
        base.chmod(0o755)
        url, server = start_postgres(base)
        try:
            admin = create_engine(url, isolation_level="AUTOCOMMIT")
            name = f"bench_usage_{uuid.uuid4().hex[:6]}"
            with admin.connect() as connection:
                connection.execute(text(f"CREATE DATABASE {name}"))
            from sqlalchemy.engine import make_url

            services = make_services(make_url(url).set(database=name).render_as_string(hide_password=False), base)
            workspace = services.workspaces.create("bench").id
            now = datetime.now(UTC).replace(microsecond=0)
            print(f"loading {args.rows:,} rows with COPY …")
            t0 = time.perf_counter()
            load_rows(services, workspace, args.rows, now)
            print(f"  loaded in {time.perf_counter() - t0:.1f} s; building the rollup …")
            build_rollup(services)
            print("timing summaries …")
            table = time_summaries(services, workspace, now, args.runs)
            print("exporting CSV …")
            elapsed, rows, before, early, peak = time_export(services, workspace, base / "usage.csv")
            size = (base / "usage.csv").stat().st_size
            services.close()
            admin.dispose()
        finally:
            if server is not None:
                server.cleanup()
    print()
    print(f"| query (1 workspace, {args.rows:,} rows, last 30 days) | groups | median ms | p95 ms | requests |")
    print("|---|---:|---:|---:|---:|")
    for row in table:
        print("| " + " | ".join(row) + " |")
    print()
    print("| export | rows | seconds | rows/s | MB written | RSS before MB | RSS max first 25% MB | RSS peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| CSV, all rows | {rows:,} | {elapsed:.1f} | {rows / elapsed:,.0f} | {size / 1e6:.0f} | "
        f"{before:.0f} | {early:.0f} | {peak:.0f} |"
    )


if __name__ == "__main__":
    main()
