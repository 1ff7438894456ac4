"""Run the fake OpenAI upstream (``tests.fake_providers.slow_openai``, zero latency unless a delay is
given) as its own process."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.support import free_port


@contextmanager
def fake_upstream(delay_s: float = 0.0) -> Iterator[str]:
    """Yields the upstream's OpenAI-style base URL (``http://127.0.0.1:<port>/v1``)."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "tests.fake_providers.slow_openai", "--port", str(port), "--delay", str(delay_s)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/models", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("fake upstream did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
