"""Gateway overhead and single-worker throughput against a zero-latency fake OpenAI upstream.

    PYTHONPATH=$PWD/shared:$PWD python -m tests.bench.bench_overhead [--requests 2000] [--db sqlite,postgres] [--json]

Three processes: the fake upstream (uvicorn, fixed JSON answer), Tollgate (`tollgate serve`'s ASGI app on
uvicorn, one worker process, SQLite or pgserver PostgreSQL, an openai credential pointing at the fake,
every request writing its usage row) and this client (httpx, threads). Overhead = latency through Tollgate
minus latency straight to the fake, per percentile; throughput = requests/s through Tollgate at
concurrency 50.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

UPSTREAM_BODY = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1763900000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
    }
).encode()
REQUEST = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 16}


async def upstream_app(scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(UPSTREAM_BODY)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": UPSTREAM_BODY})


def _run_upstream(port: int) -> None:
    import uvicorn

    uvicorn.run(upstream_app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")


def _run_tollgate(db_url: str, home: str, upstream: str, ready: Any, stop: Any) -> None:
    from tests.fakes.credentials import FakeCredentialSource
    from tests.support import make_services, make_tenant, run_server
    from tollgate.db.models import ModelPrice
    from tollgate.wiring import set_services

    services = make_services(db_url, Path(home))
    source = FakeCredentialSource(services.sessions, cache_ttl_s=5.0)
    services.credentials = source  # type: ignore[misc]
    set_services(services)
    tenant = make_tenant(services)
    source.add(tenant.workspace_id, "openai", "bench", upstream + "/v1", "sk-bench-upstream-key")
    with services.sessions.begin() as session:
        session.add(
            ModelPrice(
                provider="openai",
                model="gpt-4o-mini",
                source="manual",
                input_per_1m=Decimal("0.15"),
                output_per_1m=Decimal("0.60"),
                effective_from=datetime(2025, 1, 1, tzinfo=UTC),
            )
        )
    with run_server(services) as server:
        ready.put((server.base_url, tenant.admin_key))
        stop.wait()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _load(url: str, headers: dict[str, str], total: int, concurrency: int) -> tuple[list[float], float]:
    """Latencies (ms) of ``total`` requests at ``concurrency``, and the wall time (s)."""
    limits = httpx.Limits(max_connections=concurrency + 10, max_keepalive_connections=concurrency + 10)
    with httpx.Client(limits=limits, timeout=30.0) as client:
        body = json.dumps(REQUEST).encode()
        all_headers = {"content-type": "application/json", **headers}

        def one(_: int) -> float:
            started = time.perf_counter()
            response = client.post(url, content=body, headers=all_headers)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
            return elapsed

        for i in range(min(200, total)):  # warm-up: connections, caches
            one(i)
        started = time.perf_counter()
        if concurrency == 1:
            latencies = [one(i) for i in range(total)]
        else:
            with ThreadPoolExecutor(concurrency) as pool:
                latencies = list(pool.map(one, range(total)))
        return latencies, time.perf_counter() - started


def _stats(direct: list[float], through: list[float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, q in (("p50", 0.50), ("p95", 0.95), ("p99", 0.99)):
        out[f"direct_{name}_ms"] = round(_percentile(direct, q), 3)
        out[f"gateway_{name}_ms"] = round(_percentile(through, q), 3)
        out[f"overhead_{name}_ms"] = round(_percentile(through, q) - _percentile(direct, q), 3)
    out["mean_overhead_ms"] = round(statistics.fmean(through) - statistics.fmean(direct), 3)
    return out


def _database_url(kind: str, workdir: Path) -> tuple[str, Any]:
    """``sqlite``, ``postgres``, or ``postgres-async`` (synchronous_commit=off for the database: shows how
    much of the PostgreSQL cost is the WAL fsync of each usage-row commit on this machine's disk)."""
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tests.support import PostgresCluster, start_postgres

    admin_url, server = start_postgres(workdir)
    url = PostgresCluster(admin_url).fresh_database()
    if kind == "postgres-async":
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"ALTER DATABASE {make_url(url).database} SET synchronous_commit = off"))
        admin.dispose()
    return url, server


def bench_database(kind: str, total: int, workdir: Path) -> list[dict[str, Any]]:
    from tests.support import free_port

    ctx = mp.get_context("spawn")
    db_url, pg = _database_url(kind, workdir)
    port = free_port()
    upstream = ctx.Process(target=_run_upstream, args=(port,), daemon=True)
    upstream.start()
    upstream_url = f"http://127.0.0.1:{port}"
    _wait_listening(upstream_url)
    ready, stop = ctx.Queue(), ctx.Event()
    home = str(workdir / "home")
    gateway = ctx.Process(target=_run_tollgate, args=(db_url, home, upstream_url, ready, stop), daemon=True)
    gateway.start()
    base_url, key = ready.get(timeout=120)
    rows: list[dict[str, Any]] = []
    try:
        for concurrency in (1, 50):
            n = total if concurrency == 1 else total * 2
            _progress(f"  [{kind}] concurrency {concurrency}: {n} direct requests ...")
            direct, _ = _load(upstream_url + "/v1/chat/completions", {"authorization": "Bearer x"}, n, concurrency)
            _progress(f"  [{kind}] concurrency {concurrency}: {n} requests through Tollgate ...")
            through, wall = _load(base_url + "/v1/chat/completions", {"authorization": f"Bearer {key}"}, n, concurrency)
            row: dict[str, Any] = {"db": kind, "concurrency": concurrency, "requests": n, **_stats(direct, through)}
            row["gateway_rps"] = round(n / wall, 1)
            rows.append(row)
    finally:
        stop.set()
        gateway.join(timeout=15)
        upstream.terminate()
        upstream.join(timeout=5)
        if pg is not None:
            pg.cleanup()
    return rows


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _wait_listening(url: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.post(url + "/v1/chat/completions", content=b"{}", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("fake upstream did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per run at concurrency 1 (x2 at 50)")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for kind in args.db.split(","):
        with tempfile.TemporaryDirectory(prefix=f"tg-bench-{kind}-") as tmp:
            rows.extend(bench_database(kind, args.requests, Path(tmp)))
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    header = "| db | conc | n | direct p50 | gateway p50 | overhead p50 | overhead p95 | overhead p99 | gateway req/s |"
    print(header)
    print("|" + "---|" * 9)
    for r in rows:
        cells = [r["db"], r["concurrency"], r["requests"], r["direct_p50_ms"], r["gateway_p50_ms"]]
        cells += [r["overhead_p50_ms"], r["overhead_p95_ms"], r["overhead_p99_ms"], r["gateway_rps"]]
        print("| " + " | ".join(str(c) for c in cells) + " |")


if __name__ == "__main__":
    main()
