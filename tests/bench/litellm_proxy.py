"""LiteLLM proxy for side-by-side runs: installed into its own venv from PyPI, one worker,
pointed at the same fake upstream. Its budget feature needs Prisma, whose query engine is
downloaded at run time from binaries.prisma.sh — impossible on a machine that reaches only
package registries, so the proxy runs without a database (budgets not enforced) and the report
says so."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support import free_port

DEFAULT_VENV = Path(tempfile.gettempdir()) / "tollgate-bench-litellm"
MASTER_KEY = "sk-bench-master-key"
MODEL = "fake-gpt"


def ensure_litellm(venv: Path = DEFAULT_VENV) -> Path:
    binary = venv / "bin" / "litellm"
    if binary.exists():
        return binary
    print(f"installing litellm[proxy] into {venv} (one time, a few minutes)...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [str(venv / "bin" / "pip"), "install", "--progress-bar", "on", "litellm[proxy]"], check=True
    )
    return binary


@contextmanager
def litellm_proxy(upstream_base: str, binary: Path) -> Iterator[str]:
    port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "config.yaml"
        config.write_text(
            "model_list:\n"
            f"  - model_name: {MODEL}\n"
            "    litellm_params:\n"
            "      model: openai/gpt-4o-mini\n"
            f"      api_base: {upstream_base}\n"
            "      api_key: sk-fake-upstream-key\n"
            "general_settings:\n"
            f"  master_key: {MASTER_KEY}\n"
        )
        environment = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
        process = subprocess.Popen(  # noqa: S603
            [str(binary), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"],
            env=environment,
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{base}/health/liveliness", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("litellm proxy did not start")
                time.sleep(0.5)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=20)
