"""Database work per call: PostgreSQL transactions and row operations per execute call, with the
gateway's CPU per call, through `tollgate serve` (one worker, PostgreSQL, a block budget) against the
fake upstream. The counters are `pg_stat_database` / `pg_stat_user_tables` deltas over the measured
calls (warm-up excluded), divided by the number of calls.

    python -m tests.bench.bench_db_per_call [--calls 2000] [--concurrency 50] [--delay 0] [--stream]

Use it to see whether a change adds commits or statements to the hot path (every call reserves,
marks started, settles and writes its usage row; groups share transactions under concurrency).
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import UTC, datetime
from typing import Any

import psycopg

from tests.bench.harness import print_table, tollgate_server
from tests.bench.inflight import aload, postgres_url, setup_gateway
from tests.bench.procstat import cpu_seconds
from tests.bench.upstream_process import fake_upstream

_DATABASE = (
    "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted "
    "FROM pg_stat_database WHERE datname = current_database()"
)
_TABLES = "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables"


def _snapshot(connection: psycopg.Connection[Any]) -> dict[str, int]:
    connection.execute("SELECT pg_stat_clear_snapshot()")
    row = connection.execute(_DATABASE).fetchone()
    assert row is not None
    out = dict(zip(("commits", "rollbacks", "inserted", "updated", "deleted"), row, strict=True))
    out.update({f"writes:{name}": count for name, count in connection.execute(_TABLES).fetchall()})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.0, help="upstream latency in seconds")
    parser.add_argument("--stream", action="store_true")
    args = parser.parse_args()
    model = "openai/gpt-4o-mini"
    with postgres_url() as database_url, fake_upstream(args.delay) as upstream:
        stats = psycopg.connect(database_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        with stats, tollgate_server(database_url) as gateway:
            key = setup_gateway(gateway.base_url, upstream)
            url = f"{gateway.base_url}/v1/chat/completions"
            aload(url, key, model, concurrency=args.concurrency, total=min(500, args.calls), stream=args.stream)
            time.sleep(1)  # statistics are flushed by the backends at most every ~0.5 s
            before, cpu_before = _snapshot(stats), cpu_seconds(gateway.process.pid)
            result = aload(url, key, model, concurrency=args.concurrency, total=args.calls, stream=args.stream)
            cpu_ms = (cpu_seconds(gateway.process.pid) - cpu_before) * 1000
            time.sleep(1)
            after = _snapshot(stats)
    calls = max(1, result["n"] + result["errors"])
    row: dict[str, Any] = {"calls": calls, "errors": result["errors"], "rps": result["rps"]}
    row["cpu_ms_per_call"] = round(cpu_ms / calls, 3)
    row.update({name: round((after[name] - before.get(name, 0)) / calls, 2) for name in after})
    stamp = (
        f"{platform.node()} ({platform.machine()}, {platform.python_version()}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    title = (
        f"per call, concurrency {args.concurrency}, upstream delay {args.delay}s{' (streams)' if args.stream else ''}"
    )
    print_table(f"{title} — {stamp}", [{"measure": k, "value": v} for k, v in row.items() if v])


if __name__ == "__main__":
    main()
