"""An async load client (aiohttp) meant to run in its OWN process, so the gateway's CPU is measured
without the client's: ``concurrency`` callers each send requests back to back until ``total`` are
done; prints one JSON object (latencies summary, errors, wall time, requests/s).

    python -m tests.bench.aload --url http://127.0.0.1:8080/v1/chat/completions --key K \\
        --concurrency 1024 --total 3072 [--stream] [--model openai/gpt-4o-mini] [--samples] [--ramp 2]

``--samples`` adds every successful call's latency (ms, ``samples_ms``) for callers that compute
their own percentiles. ``--ramp S`` starts the callers spread evenly over S seconds (caller i sends its
first request at ``i * S / concurrency``), as load tools ramp users up, instead of all at once.

Besides the whole run, the result has ``steady``: the callers' middle calls (all but each one's
first and last). The whole run includes the opening burst (every caller sending at the same
instant, so a gateway must take ``concurrency`` requests at once) and the draining end; ``steady``
is the rate the same callers sustain in between, once their calls have spread out. Empty with fewer
than three calls per caller.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from typing import Any

import aiohttp

MESSAGES = [{"role": "user", "content": "benchmark me, please"}]


def _pct(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _steady(calls: list[list[tuple[float, float]]]) -> dict[str, Any]:
    """Rate and latency of the middle calls: ``calls`` holds each caller's successful (start, end)
    times in order. The rate is the middle calls' count over the time between the median caller's
    first and second-to-last completions (middle calls end in that interval)."""
    rounds = min((len(mine) for mine in calls), default=0)
    if rounds < 3:
        return {}
    opens = statistics.median(mine[0][1] for mine in calls)
    closes = statistics.median(mine[rounds - 2][1] for mine in calls)
    middle = sorted((end - start) * 1000 for mine in calls for start, end in mine[1 : rounds - 1])
    if closes <= opens:
        return {}
    return {
        "n": len(middle),
        "window_s": round(closes - opens, 3),
        "rps": round(len(middle) / (closes - opens), 1),
        "p50_ms": round(_pct(middle, 0.50), 2),
        "p99_ms": round(_pct(middle, 0.99), 2),
    }


async def run(
    url: str,
    key: str,
    model: str,
    concurrency: int,
    total: int,
    stream: bool,
    samples: bool = False,
    ramp_s: float = 0.0,
) -> dict[str, Any]:
    body = json.dumps({"model": model, "messages": MESSAGES, "max_tokens": 16, "stream": stream}).encode()
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
    latencies: list[float] = []
    calls: list[list[tuple[float, float]]] = []  # per caller: (start, end) of each successful call, in order
    errors: list[str] = []
    remaining = [total]
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(mine: list[tuple[float, float]]) -> None:
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as response:
                    payload = await response.read()
                    ok = response.status == 200 and (not stream or payload.rstrip().endswith(b"data: [DONE]"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                errors.append(type(exc).__name__)
                return
            ended = time.perf_counter()
            if ok:
                latencies.append((ended - started) * 1000)
                mine.append((started, ended))
            else:
                errors.append(f"HTTP {response.status}: {payload[:120]!r}")

        async def caller(index: int) -> None:
            mine: list[tuple[float, float]] = []
            calls.append(mine)
            if ramp_s > 0:
                await asyncio.sleep(index * ramp_s / concurrency)
            while remaining[0] > 0:
                remaining[0] -= 1
                await one(mine)

        started = time.perf_counter()
        await asyncio.gather(*(caller(index) for index in range(concurrency)))
        wall = time.perf_counter() - started
    ordered = sorted(latencies)
    extra = {"samples_ms": [round(v, 3) for v in latencies]} if samples else {}
    return {
        **extra,
        "steady": _steady(calls),
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
    parser.add_argument("--ramp", type=float, default=0.0, help="start the callers spread over this many seconds")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        pass
    result = asyncio.run(
        run(args.url, args.key, args.model, args.concurrency, args.total, args.stream, args.samples, args.ramp)
    )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
