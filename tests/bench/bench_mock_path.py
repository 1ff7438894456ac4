"""Throughput and latency of the built-in mock path through a real `tollgate serve` process (one
worker, SQLite or PostgreSQL): every request authenticates, prices, writes its usage row.

    python -m tests.bench.bench_mock_path [--requests 3000] [--concurrency 1 10 50] [--postgres] [--json out]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from datetime import UTC, datetime

import httpx

from tests.bench.harness import admin_key, print_table, run_load, tollgate_server, write_json

BODY = {"model": "mock/echo", "messages": [{"role": "user", "content": "benchmark me, please"}], "max_tokens": 16}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--postgres", action="store_true", help="use a pgserver PostgreSQL instead of SQLite")
    parser.add_argument("--warmup", type=int, default=2000, help="requests before the RSS baseline")
    parser.add_argument("--json", help="write results to this file")
    args = parser.parse_args()

    database_url = None
    if args.postgres:
        import pgserver

        server = pgserver.get_server(tempfile.mkdtemp(prefix="tg-bench-pg-"), cleanup_mode="stop")
        database_url = server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)

    rows = []
    with tollgate_server(database_url) as gateway:
        key = admin_key(gateway.base_url)
        headers = {"Authorization": f"Bearer {key}"}
        url = f"{gateway.base_url}/v1/chat/completions"

        def call(client: httpx.Client) -> bool:
            return client.post(url, json=BODY, headers=headers).status_code == 200

        run_load("warm-up", call, total=args.warmup, concurrency=max(args.concurrency))
        rss_start = gateway.rss_kb()
        for concurrency in args.concurrency:
            timings = run_load(f"mock path c={concurrency}", call, total=args.requests, concurrency=concurrency)
            print(f"RSS after c={concurrency}: {gateway.rss_kb() / 1024:.1f} MiB", flush=True)
            rows.append(
                {"database": "postgresql" if args.postgres else "sqlite", "concurrency": concurrency, **timings.row()}
            )
        rss_end = gateway.rss_kb()
    print_table(f"mock path through tollgate serve ({platform.node()}, {datetime.now(UTC):%Y-%m-%d})", rows)
    print(f"server RSS: start {rss_start / 1024:.1f} MiB, end {rss_end / 1024:.1f} MiB")
    write_json(args.json, {"rows": rows, "rss_start_kb": rss_start, "rss_end_kb": rss_end})


if __name__ == "__main__":
    main()
