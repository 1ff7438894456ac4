"""`tollgate serve --workers 2`: two processes share only the database, and a block budget raced
by concurrent calls across both stays exact (the same N calls fit as with one process)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import func, select

from tests.support import ROOT_KEY, free_port, make_services, make_tenant
from tollgate.db.models import Reservation, UsageRecord
from tollgate.pricing.calculator import worst_case_cost
from tollgate.providers.mock import prompt_tokens

MESSAGES = [{"role": "user", "content": "x" * 400}]  # echo is longer than max_tokens: cost == worst case
MAX_TOKENS = 20


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@contextmanager
def serve(db_url: str, home: Path, workers: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    env = {**os.environ, "TOLLGATE_ROOT_KEY": ROOT_KEY, "TOLLGATE_HOME": str(home)}
    argv = [sys.executable, "-m", "tollgate.cli", "serve", "--port", str(port), "--db", db_url]
    process = subprocess.Popen([*argv, "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_two_workers_keep_a_block_budget_exact(db_url: str, tmp_path: Path) -> None:
    services = make_services(db_url, tmp_path)
    tenant = make_tenant(services)
    price = services.prices.current("mock", "echo")
    assert price is not None
    fits, requests = 10, 40
    limit = worst_case_cost(prompt_tokens({"messages": MESSAGES}), MAX_TOKENS, price) * fits
    admin = {"authorization": f"Bearer {tenant.admin_key}"}
    with serve(db_url, tmp_path, workers=2) as (base, process):
        assert len(_children(process.pid)) >= 2  # the supervisor and its two worker processes
        budget = {"name": "cap", "scope": "workspace", "period": "monthly", "limit_usd": str(limit), "action": "block"}
        created = httpx.post(f"{base}/v1/budgets", json=budget, headers=admin, timeout=30)
        assert created.status_code == 201, created.text

        def call(_: int) -> int:
            with httpx.Client(timeout=60) as client:  # a new connection each: spread over both workers
                body = {"model": "mock/echo", "messages": MESSAGES, "max_tokens": MAX_TOKENS}
                return client.post(f"{base}/v1/chat/completions", json=body, headers=admin).status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(call, range(requests)))
    assert set(statuses) <= {200, 402}
    assert statuses.count(200) == fits
    with services.sessions() as session:
        spent = session.scalar(select(func.sum(UsageRecord.cost_usd)).where(UsageRecord.status == "success"))
        left = session.scalar(select(func.count()).select_from(Reservation))
    assert spent == limit and left == 0
    services.close()
