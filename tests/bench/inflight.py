"""Shared pieces of the process-level benchmarks: PostgreSQL, a configured `tollgate serve`, and the
async load client run as its own process."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.bench.harness import admin_key


@contextmanager
def postgres_url() -> Iterator[str]:
    """A throwaway pgserver PostgreSQL (psycopg 3 URL), its data directory removed afterwards."""
    import pgserver

    folder = tempfile.mkdtemp(prefix="tg-bench-pg-")
    server = pgserver.get_server(folder, cleanup_mode="stop")
    try:
        yield server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)  # ~55 MB of data directory per run


def setup_gateway(base_url: str, upstream: str) -> str:
    """Admin key, an openai credential pointing at ``upstream`` and a workspace block budget:
    every call then reserves, settles and writes its usage row."""
    key = admin_key(base_url)
    headers = {"Authorization": f"Bearer {key}"}
    credential = {"provider": "openai", "name": "bench", "api_key": "sk-bench-upstream-0000", "base_url": upstream}
    httpx.post(f"{base_url}/v1/credentials", json=credential, headers=headers, timeout=30).raise_for_status()
    budget = {"name": "bench", "scope": "workspace", "period": "monthly", "limit_usd": "1000000", "action": "block"}
    httpx.post(f"{base_url}/v1/budgets", json=budget, headers=headers, timeout=30).raise_for_status()
    return key


def aload(
    url: str,
    key: str,
    model: str,
    *,
    concurrency: int,
    total: int,
    stream: bool = False,
    samples: bool = False,
    ramp_s: float = 0.0,
) -> dict[str, Any]:
    """Run tests.bench.aload in its own process and return its JSON result (``samples_ms`` too with
    ``samples``; callers started spread over ``ramp_s`` seconds when > 0)."""
    argv = [sys.executable, "-m", "tests.bench.aload", "--url", url, "--key", key, "--model", model]
    argv += ["--concurrency", str(concurrency), "--total", str(total)]
    if stream:
        argv.append("--stream")
    if samples:
        argv.append("--samples")
    if ramp_s > 0:
        argv += ["--ramp", str(ramp_s)]
    done = subprocess.run(argv, capture_output=True, check=True, timeout=900)  # noqa: S603 - fixed argv
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result
