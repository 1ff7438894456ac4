"""An async load client (aiohttp) meant to run in its OWN process, so the gateway's CPU is measured
without the client's: ``concurrency`` callers each send requests back to back until ``total`` are
done; prints one JSON object (latencies summary, errors, wall time, requests/s).

    python -m tests.bench.aload --url http://127.0.0.1:8080/v1/chat/completions --key K \\
        --concurrency 1024 --total 3072 [--stream] [--model openai/gpt-4o-mini] [--samples]

``--samples`` adds every successful call's latency (ms, ``samples_ms``) for callers that compute
their own percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

MESSAGES = [{"role": "user", "content": "benchmark me, please"}]


def _pct(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def run(
    url: str, key: str, model: str, concurrency: int, total: int, stream: bool, samples: bool = False
) -> dict[str, Any]:
    body = json.dumps({"model": model, "messages": MESSAGES, "max_tokens": 16, "stream": stream}).encode()
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    latencies: list[float] = []
    errors: list[str] = []
    remaining = [total]
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one() -> None:
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    payload = await response.read()
                    ok = response.status == 200 and (not stream or payload.rstrip().endswith(b"data: [DONE]"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                errors.append(type(exc).__name__)
                return
            if ok:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors.append(f"HTTP {response.status}: {payload[:120]!r}")

        async def caller() -> None:
            while remaining[0] > 0:
                remaining[0] -= 1
                await one()

        started = time.perf_counter()
        await asyncio.gather(*(caller() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    ordered = sorted(latencies)
    extra = {"samples_ms": [round(v, 3) for v in latencies]} if samples else {}
    return {
        **extra,
        "n": len(latencies),
        "errors": len(errors),
        "error_samples": sorted(set(errors))[:3],
        "wall_s": round(wall, 3),
        "rps": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": round(_pct(ordered, 0.50), 2),
        "p99_ms": round(_pct(ordered, 0.99), 2),
        "max_ms": round(ordered[-1], 2) if ordered else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", default="x")
    parser.add_argument("--model", default="openai/gpt-4o-mini")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--total", type=int, default=1000)
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--samples", action="store_true", help="include every latency (ms) in the output")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        pass
    result = asyncio.run(run(args.url, args.key, args.model, args.concurrency, args.total, args.stream, args.samples))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
