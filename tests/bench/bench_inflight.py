"""Calls in flight: an upstream that answers after 2 s, 1,024 concurrent non-stream callers and,
separately, 1,024 concurrent streams, straight to the fake upstream and through Tollgate
(`tollgate serve`, one worker, PostgreSQL, a block budget: every call reserves, settles and writes
its usage row) in the same run. Optionally LiteLLM proxy (one worker) on the same upstream.

The load client is tests.bench.aload (aiohttp) in its own process; the gateway's CPU and peak RSS
are read from /proc/<pid>. Each caller sends ``--rounds`` requests back to back. Two readings per
row: the whole run, which opens with every caller sending at the same instant (a burst of
``--callers`` requests) and ends draining, and ``steady_*``: each caller's middle calls (all but its
first and last; needs ``--rounds`` ≥ 3). With a constant upstream delay the calls stay bunched in
waves as wide as the gateway takes to pass one wave through, so both readings measure that width.

``--ramp S`` starts the callers spread evenly over S seconds instead (as load tools ramp users up;
``--ramp 2`` with a 2 s upstream: one caller every ~2 ms), for the direct run and the gateway alike.
The same 1,024 calls are then in flight once ramped, but arrive as a steady stream rather than one
synchronized burst that the constant delay keeps together; the ``steady_*`` reading is the one to
read then.

    python -m tests.bench.bench_inflight [--callers 1024] [--rounds 3] [--delay 2] [--ramp 0] [--litellm]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import platform
from datetime import UTC, datetime
from typing import Any

from tests.bench.harness import print_table, tollgate_server, write_json
from tests.bench.inflight import aload, postgres_url, setup_gateway
from tests.bench.procstat import PeakRss, cpu_seconds
from tests.bench.upstream_process import fake_upstream


def measure_gateway(pid: int, url: str, key: str, model: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for stream in (False, True):
        kind = "stream" if stream else "call"
        aload(url, key, model, concurrency=min(256, args.callers), total=min(256, args.callers), stream=stream)
        before = cpu_seconds(pid)
        with PeakRss(pid) as rss:
            result = aload(
                url,
                key,
                model,
                concurrency=args.callers,
                total=args.callers * args.rounds,
                stream=stream,
                ramp_s=args.ramp,
            )
        cpu_ms = (cpu_seconds(pid) - before) * 1000
        result.update(kind=kind, peak_rss_mb=round(rss.peak_mb, 1))
        result["cpu_ms_per_req"] = round(cpu_ms / max(1, result["n"] + result["errors"]), 3)
        rows.append(result)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--callers", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--delay", type=float, default=2.0)
    parser.add_argument("--ramp", type=float, default=0.0, help="start the callers spread over this many seconds")
    parser.add_argument("--litellm", action="store_true", help="also LiteLLM proxy (installs it into its own venv)")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    total = args.callers * args.rounds
    with postgres_url() as database_url, fake_upstream(args.delay) as upstream:
        for stream in (False, True):
            url = f"{upstream}/chat/completions"
            result = aload(
                url, "x", "gpt-4o-mini", concurrency=args.callers, total=total, stream=stream, ramp_s=args.ramp
            )
            rows.append({"target": "direct", "kind": "stream" if stream else "call", **result})
        with tollgate_server(database_url) as gateway:
            key = setup_gateway(gateway.base_url, upstream)
            url = f"{gateway.base_url}/v1/chat/completions"
            for row in measure_gateway(gateway.process.pid, url, key, "openai/gpt-4o-mini", args):
                rows.append({"target": "tollgate", **row})
        if args.litellm:
            from tests.bench.litellm_proxy import MASTER_KEY, MODEL, ensure_litellm, litellm_proxy

            with litellm_proxy(upstream, ensure_litellm()) as proxy:
                pid = _listening_pid(proxy)
                for row in measure_gateway(pid, f"{proxy}/v1/chat/completions", MASTER_KEY, MODEL, args):
                    rows.append({"target": "litellm", **row})
    ideal = args.callers / args.delay
    for row in rows:
        row["pct_of_ideal"] = round(100 * row["rps"] / ideal, 1)
        if not row["errors"]:
            row.pop("error_samples", None)
    for row in rows:
        steady = row.pop("steady", None) or {}
        row.update({f"steady_{name}": steady.get(name) for name in ("rps", "p50_ms", "p99_ms")})
    direct = {r["kind"]: r for r in rows if r["target"] == "direct"}
    for row in rows:
        row["pct_of_direct"] = round(100 * row["rps"] / max(direct[row["kind"]]["rps"], 0.01), 1)
        steady_direct = direct[row["kind"]]["steady_rps"]
        if row["steady_rps"] and steady_direct:
            row["steady_pct_of_direct"] = round(100 * row["steady_rps"] / steady_direct, 1)
    stamp = (
        f"{platform.node()} ({platform.machine()}, {platform.python_version()}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )
    title = f"in flight: {args.callers} callers x {args.rounds}, upstream delay {args.delay}s (ideal {ideal:.0f}/s)"
    if args.ramp > 0:
        title += f", callers started over {args.ramp}s"
    print_table(f"{title} — {stamp}", rows)
    write_json(args.json, {"machine": stamp, "rows": rows})


def _listening_pid(base_url: str) -> int:
    """The pid of the process listening on ``base_url``'s port (LiteLLM runs under a wrapper)."""
    import subprocess

    port = base_url.rsplit(":", 1)[1].split("/", maxsplit=1)[0]
    out = subprocess.run(["ss", "-ltnp", f"sport = :{port}"], capture_output=True, text=True, check=False).stdout  # noqa: S607
    marker = "pid="
    index = out.find(marker)
    if index < 0:
        raise RuntimeError(f"no process listens on {port}")
    return int(out[index + len(marker) :].split(",", 1)[0])


if __name__ == "__main__":
    main()
