"""Run the fake OpenAI upstream (``tests.fake_providers.slow_openai``, zero latency unless a delay is
given) as its own process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support import free_port, wait_until_answers


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
        wait_until_answers(f"{base}/models", process, timeout_s=30)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
