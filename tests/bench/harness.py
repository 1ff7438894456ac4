"""Shared benchmark plumbing: run `tollgate serve` as a real subprocess, drive it with threads,
report percentiles. Load stays on 127.0.0.1 and every loop is bounded."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support import ROOT_KEY, free_port, wait_until_answers


@dataclass
class Timings:
    samples_ms: list[float] = field(default_factory=list)
    errors: int = 0
    wall_s: float = 0.0

    def pct(self, p: float) -> float:
        if not self.samples_ms:
            return float("nan")
        ordered = sorted(self.samples_ms)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    @property
    def rps(self) -> float:
        return len(self.samples_ms) / self.wall_s if self.wall_s else 0.0

    def row(self) -> dict[str, Any]:
        return {
            "n": len(self.samples_ms),
            "errors": self.errors,
            "p50_ms": round(self.pct(50), 3),
            "p95_ms": round(self.pct(95), 3),
            "p99_ms": round(self.pct(99), 3),
            "mean_ms": round(statistics.fmean(self.samples_ms), 3) if self.samples_ms else None,
            "rps": round(self.rps, 1),
        }


def progress(label: str, done: int, total: int) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r{label:<34} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run_load(label: str, call: Callable[[httpx.Client], bool], *, total: int, concurrency: int) -> Timings:
    timings = Timings()
    lock = threading.Lock()
    counter = iter(range(total))
    done = [0]

    def worker() -> None:
        with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=1)) as client:
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                started = time.perf_counter()
                ok = call(client)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if ok:
                        timings.samples_ms.append(elapsed)
                    else:
                        timings.errors += 1
                    done[0] += 1
                    if done[0] % max(1, total // 50) == 0 or done[0] == total:
                        progress(label, done[0], total)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(worker)
    timings.wall_s = time.perf_counter() - started
    return timings


@dataclass
class ServerProcess:
    base_url: str
    process: subprocess.Popen[bytes]

    def rss_kb(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


@contextmanager
def tollgate_server(database_url: str | None = None, env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    """`tollgate serve` in its own process (one worker), root key fixed, local network allowed."""
    with tempfile.TemporaryDirectory() as home:
        port = free_port()
        db = database_url or f"sqlite:///{home}/bench.db"
        environment = {
            **os.environ,
            "TOLLGATE_ROOT_KEY": ROOT_KEY,
            "TOLLGATE_HOME": home,
            "TOLLGATE_ALLOW_LOCAL_NETWORK": "true",
            **(env or {}),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "tollgate.cli", "serve", "--port", str(port), "--db", db],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            wait_until_answers(f"{base_url}/health", process)
            yield ServerProcess(base_url, process)
        finally:
            process.terminate()
            process.wait(timeout=15)


def admin_key(base_url: str) -> str:
    """Create a workspace and an admin key through the API with the root key."""
    root = {"Authorization": f"Bearer {ROOT_KEY}"}
    workspace = httpx.post(f"{base_url}/v1/workspaces", json={"name": "bench"}, headers=root).json()
    created = httpx.post(
        f"{base_url}/v1/keys", json={"workspace_id": workspace["id"], "name": "bench", "role": "admin"}, headers=root
    )
    return str(created.json()["key"])


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = list(dict.fromkeys(column for row in rows for column in row))  # every row's, in first-seen order
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print(f"\n{title}")
    print("  ".join(c.ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))


def write_json(path: str | None, payload: dict[str, Any]) -> None:
    if path:
        Path(path).write_text(json.dumps(payload, indent=2))


def add_litellm_map_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--litellm-map",
        type=Path,
        help="a full LiteLLM model_prices_and_context_window.json (default: the packaged snapshot's models)",
    )


def litellm_map_file(path: Path | None, folder: Path) -> Path:
    """``path`` when given, else the packaged snapshot's models written as a LiteLLM map into ``folder``."""
    if path is not None:
        return path
    from tests.pricing_data import snapshot_document  # noqa: PLC0415 - imports the package's snapshot

    out = folder / "litellm_snapshot_map.json"
    out.write_text(json.dumps(snapshot_document(), default=float))  # shortest float repr = the decimal text
    return out
