"""Memory of the execute process over many requests: `tollgate serve` (one worker, PostgreSQL or
SQLite, a workspace block budget, an openai credential on the zero-latency fake upstream), warmed
up, then ``--requests`` more at concurrency 50 in rounds that alternate plain calls and streams.
RSS is read from /proc/<pid>/status after the warm-up and after each round; the growth is the last
reading minus the one after the warm-up (the target: at most 10 MB over 20,000 requests).

    python -m tests.bench.bench_memory [--requests 20000] [--rounds 4] [--warm-up 2000] [--db postgres]

A steady process stops growing once its caches (prices, keys, compiled statements, the pooled
connections) are full, so the readings should flatten after the first round; a leak grows with
every round instead.
"""

from __future__ import annotations

import argparse
import platform
import sys
from datetime import UTC, datetime
from typing import Any

from tests.bench.bench_overhead import database
from tests.bench.harness import print_table, tollgate_server, write_json
from tests.bench.inflight import aload, setup_gateway
from tests.bench.procstat import rss_mb
from tests.bench.upstream_process import fake_upstream

MODEL = "openai/gpt-4o-mini"
TARGET_GROWTH_MB = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=4, help="rounds, alternating calls and streams")
    parser.add_argument("--warm-up", type=int, default=2_000)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    per_round = args.requests // args.rounds
    with database(args.db) as db, fake_upstream() as upstream, tollgate_server(db) as gateway:
        key = setup_gateway(gateway.base_url, upstream)
        url, pid = f"{gateway.base_url}/v1/chat/completions", gateway.process.pid
        rows.append({"after": "start", "requests": 0, "rss_mb": round(rss_mb(pid), 1)})
        for stream in (False, True):
            aload(url, key, MODEL, concurrency=50, total=args.warm_up // 2, stream=stream)
        baseline = rss_mb(pid)
        rows.append({"after": "warm-up", "requests": args.warm_up, "rss_mb": round(baseline, 1), "growth_mb": 0.0})
        served = 0
        for index in range(args.rounds):
            stream = index % 2 == 1
            result = aload(url, key, MODEL, concurrency=50, total=per_round, stream=stream)
            served += per_round
            now = rss_mb(pid)
            rows.append(
                {
                    "after": f"round {index + 1} ({'streams' if stream else 'calls'})",
                    "requests": served,
                    "rss_mb": round(now, 1),
                    "growth_mb": round(now - baseline, 1),
                    "errors": result["errors"],
                    "rps": result["rps"],
                }
            )
            print(f"round {index + 1}/{args.rounds}: RSS {now:.1f} MB", file=sys.stderr)
    growth = rows[-1]["growth_mb"]
    stamp = f"{platform.node()} ({platform.machine()}, {platform.python_version()})"
    stamp += f", {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    print_table(f"execute process RSS over {served} requests after warm-up ({args.db}) — {stamp}", rows)
    print(f"\ngrowth over {served} requests: {growth} MB (target ≤ {TARGET_GROWTH_MB:g} MB over 20,000)")
    write_json(args.json, {"machine": stamp, "db": args.db, "rows": rows, "growth_mb": growth})


if __name__ == "__main__":
    main()
