"""Side by side on one zero-latency fake OpenAI upstream: direct calls, Tollgate (`tollgate serve`,
one worker, PostgreSQL, a block budget on) and LiteLLM proxy (one worker), at several
concurrencies. Reports p50/p95/p99 latency, overhead over direct, throughput, the
Tollgate/LiteLLM ratios, and time to first token for streams.

The non-stream loads run on the async client (`tests.bench.aload`, aiohttp) in a process of their own,
so neither the targets' CPU nor the client's limits the throughput at high concurrency (a threaded
client in this process topped out near 360 req/s even calling the upstream directly). Time to first
chunk is measured at concurrency 1 with a streaming httpx client.

    python -m tests.bench.bench_vs_litellm [--requests 2000] [--concurrency 1 10 50] [--json out.json]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.bench.harness import Timings, admin_key, print_table, run_load, tollgate_server, write_json
from tests.bench.inflight import aload
from tests.bench.litellm_proxy import MASTER_KEY, MODEL, ensure_litellm, litellm_proxy
from tests.bench.upstream_process import fake_upstream

MESSAGES = [{"role": "user", "content": "benchmark me, please"}]


def chat_call(url: str, key: str, model: str, *, stream: bool = False) -> Callable[[httpx.Client], bool]:
    body = {"model": model, "messages": MESSAGES, "max_tokens": 16, "stream": stream}
    headers = {"Authorization": f"Bearer {key}"}

    def call(client: httpx.Client) -> bool:
        if not stream:
            return client.post(url, json=body, headers=headers).status_code == 200
        with client.stream("POST", url, json=body, headers=headers) as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    return response.status_code == 200  # time to first chunk
        return False

    return call


def setup_tollgate(base_url: str, upstream: str) -> str:
    key = admin_key(base_url)
    headers = {"Authorization": f"Bearer {key}"}
    credential = {"provider": "openai", "name": "bench", "api_key": "sk-bench-upstream-0000", "base_url": upstream}
    response = httpx.post(f"{base_url}/v1/credentials", json=credential, headers=headers, timeout=30)
    response.raise_for_status()
    budget = {"name": "bench", "scope": "workspace", "period": "monthly", "limit_usd": "1000000", "action": "block"}
    httpx.post(f"{base_url}/v1/budgets", json=budget, headers=headers, timeout=30).raise_for_status()
    return key


def measure(label: str, call: Callable[[httpx.Client], bool], total: int, concurrency: int) -> Timings:
    run_load(f"{label} warm-up", call, total=min(200, total), concurrency=concurrency)
    return run_load(f"{label} c={concurrency}", call, total=total, concurrency=concurrency)


def measure_async(label: str, url: str, key: str, model: str, total: int, concurrency: int) -> Timings:
    """Warm-up, then ``total`` calls from ``concurrency`` async callers in the load-client process."""
    sys.stderr.write(f"{label} c={concurrency}: warm-up {min(200, total)}, then {total} calls ...")
    sys.stderr.flush()
    aload(url, key, model, concurrency=concurrency, total=min(200, total))
    result = aload(url, key, model, concurrency=concurrency, total=total, samples=True)
    sys.stderr.write(f" {result['rps']} req/s, {result['errors']} errors\n")
    return Timings(samples_ms=result["samples_ms"], errors=result["errors"], wall_s=result["wall_s"])


def overhead_rows(results: dict[tuple[str, int], Timings], concurrencies: list[int]) -> list[dict[str, Any]]:
    rows = []
    for concurrency in concurrencies:
        direct = results[("direct", concurrency)]
        row: dict[str, Any] = {"concurrency": concurrency, "direct_p50": round(direct.pct(50), 2)}
        for name in ("tollgate", "litellm"):
            timing = results.get((name, concurrency))
            if timing is None:
                continue
            for p in (50, 95, 99):
                row[f"{name}_over_p{p}"] = round(timing.pct(p) - direct.pct(p), 2)
            row[f"{name}_rps"] = round(timing.rps, 1)
            row[f"{name}_errors"] = timing.errors
        if ("litellm", concurrency) in results:
            tollgate, litellm = results[("tollgate", concurrency)], results[("litellm", concurrency)]
            ours = max(tollgate.pct(50) - direct.pct(50), 0.01)
            theirs = litellm.pct(50) - direct.pct(50)
            row["overhead_ratio_litellm/tollgate"] = round(theirs / ours, 1)
            row["throughput_ratio_tollgate/litellm"] = round(tollgate.rps / max(litellm.rps, 0.01), 1)
        rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--skip-litellm", action="store_true")
    parser.add_argument("--json", help="write results to this file")
    args = parser.parse_args()

    import pgserver

    pg = pgserver.get_server(tempfile.mkdtemp(prefix="tg-bench-pg-"), cleanup_mode="stop")
    database_url = pg.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    litellm_binary = None if args.skip_litellm else ensure_litellm()
    results: dict[tuple[str, int], Timings] = {}
    ttft: dict[str, Timings] = {}
    with fake_upstream() as upstream:
        for concurrency in args.concurrency:
            results[("direct", concurrency)] = measure_async(
                "direct", f"{upstream}/chat/completions", "sk-direct", "gpt-4o-mini", args.requests, concurrency
            )
        ttft["direct"] = measure(
            "direct stream",
            chat_call(f"{upstream}/chat/completions", "sk", "gpt-4o-mini", stream=True),
            args.requests // 2,
            1,
        )
        with tollgate_server(database_url) as gateway:
            key = setup_tollgate(gateway.base_url, upstream)
            url = f"{gateway.base_url}/v1/chat/completions"
            for concurrency in args.concurrency:
                results[("tollgate", concurrency)] = measure_async(
                    "tollgate", url, key, "openai/gpt-4o-mini", args.requests, concurrency
                )
            ttft["tollgate"] = measure(
                "tollgate stream", chat_call(url, key, "openai/gpt-4o-mini", stream=True), args.requests // 2, 1
            )
        if litellm_binary is not None:
            with litellm_proxy(upstream, litellm_binary) as proxy:
                url = f"{proxy}/v1/chat/completions"
                for concurrency in args.concurrency:
                    results[("litellm", concurrency)] = measure_async(
                        "litellm", url, MASTER_KEY, MODEL, args.requests, concurrency
                    )
                ttft["litellm"] = measure(
                    "litellm stream", chat_call(url, MASTER_KEY, MODEL, stream=True), args.requests // 2, 1
                )
    pg.cleanup()

    stamp = (
        f"{platform.node()} ({platform.machine()}, {platform.python_version()}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    latency_rows = [{"target": name, "concurrency": c, **t.row()} for (name, c), t in sorted(results.items())]
    print_table(f"latency per target — {stamp}", latency_rows)
    print_table("overhead over direct (ms) and ratios", overhead_rows(results, args.concurrency))
    ttft_rows = [{"target": name, **t.row()} for name, t in ttft.items()]
    print_table("streaming: time to first chunk (ms), concurrency 1", ttft_rows)
    print(
        "note: LiteLLM ran without a database, so its budget was not enforced (Prisma engines cannot be "
        "downloaded here); Tollgate ran with a block budget reserving and settling on every request."
    )
    write_json(
        args.json,
        {
            "when": time.time(),
            "machine": stamp,
            "latency": latency_rows,
            "ttft": ttft_rows,
            "overhead": overhead_rows(results, args.concurrency),
        },
    )


if __name__ == "__main__":
    main()
