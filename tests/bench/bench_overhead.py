"""Gateway overhead, throughput and CPU per request against a zero-latency fake OpenAI upstream.

    python -m tests.bench.bench_overhead [--requests 2000] [--db postgres,sqlite] [--json out.json]

Processes: the fake upstream, Tollgate (`tollgate serve`, one worker, PostgreSQL via pgserver or
SQLite, an openai credential pointing at the fake and a workspace BLOCK budget, so every request
reserves, settles and writes its usage row) and the load clients. Concurrency 1 is a sequential
httpx client (latency); concurrency 50 and the streams are the async client tests.bench.aload in
its own process. Overhead = Tollgate's percentile minus the direct percentile. CPU is the gateway
process's user+system time from /proc/<pid>/stat over everything it served after setup (warm-up
included), divided by the requests it served.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.bench.harness import print_table, tollgate_server, write_json
from tests.bench.inflight import aload, postgres_url, setup_gateway
from tests.bench.procstat import PeakRss, cpu_seconds
from tests.bench.upstream_process import fake_upstream

REQUEST: dict[str, Any] = {
    "model": "openai/gpt-4o-mini",
    "messages": [{"role": "user", "content": "Say hi"}],
    "max_tokens": 16,
}
WARM_UP = 200


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def sequential(url: str, key: str, model: str, total: int) -> list[float]:
    """Latencies (ms) of ``total`` back-to-back requests on one keep-alive connection."""
    body = json.dumps({**REQUEST, "model": model}).encode()
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    latencies = []
    with httpx.Client(timeout=30) as client:
        for _ in range(total):
            started = time.perf_counter()
            response = client.post(url, content=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    return latencies


@contextmanager
def database(kind: str) -> Iterator[str | None]:
    if kind == "sqlite":
        yield None  # tollgate_server's default: a SQLite file in its home
        return
    with postgres_url() as url:
        yield url


def bench(kind: str, total: int) -> dict[str, Any]:
    print(f"[{kind}] ...", file=sys.stderr, flush=True)
    with database(kind) as db, fake_upstream() as upstream:
        url = f"{upstream}/chat/completions"
        sequential(url, "x", "gpt-4o-mini", WARM_UP)
        direct_c1 = sequential(url, "x", "gpt-4o-mini", total)
        direct_c50 = aload(url, "x", "gpt-4o-mini", concurrency=50, total=total * 2)
        with tollgate_server(db) as gateway:
            key = setup_gateway(gateway.base_url, upstream)
            pid, url = gateway.process.pid, f"{gateway.base_url}/v1/chat/completions"
            before = cpu_seconds(pid)
            sequential(url, key, REQUEST["model"], WARM_UP)
            through_c1 = sequential(url, key, REQUEST["model"], total)
            through_c50 = aload(url, key, REQUEST["model"], concurrency=50, total=total * 2)
            calls_cpu_ms = (cpu_seconds(pid) - before) * 1000 / (WARM_UP + total + total * 2)
            before = cpu_seconds(pid)
            with PeakRss(pid) as rss:
                streams = aload(url, key, REQUEST["model"], concurrency=50, total=total, stream=True)
            stream_cpu_ms = (cpu_seconds(pid) - before) * 1000 / total
    return {
        "db": kind,
        "c1_overhead_p50_ms": round(_pct(through_c1, 0.5) - _pct(direct_c1, 0.5), 3),
        "c1_overhead_p99_ms": round(_pct(through_c1, 0.99) - _pct(direct_c1, 0.99), 3),
        "c1_gateway_p50_ms": round(_pct(through_c1, 0.5), 3),
        "c50_overhead_p50_ms": round(through_c50["p50_ms"] - direct_c50["p50_ms"], 2),
        "c50_overhead_p99_ms": round(through_c50["p99_ms"] - direct_c50["p99_ms"], 2),
        "c50_rps": through_c50["rps"],
        "direct_c50_rps": direct_c50["rps"],
        "errors": through_c50["errors"] + streams["errors"],
        "cpu_ms_per_req": round(calls_cpu_ms, 3),
        "stream_rps": streams["rps"],
        "cpu_ms_per_stream": round(stream_cpu_ms, 3),
        "peak_rss_mb": round(rss.peak_mb, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests at concurrency 1 (x2 at 50)")
    parser.add_argument("--db", default="postgres,sqlite")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    rows = [bench(kind, args.requests) for kind in args.db.split(",")]
    stamp = f"{platform.node()} ({platform.machine()}, {platform.python_version()})"
    stamp += f", {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    print_table(f"zero-latency upstream, block budget on — {stamp}", rows)
    write_json(args.json, {"machine": stamp, "rows": rows})
    if args.json:
        print(f"written to {Path(args.json).resolve()}")


if __name__ == "__main__":
    main()
