"""The execute function's entry point under the Lambda Web Adapter, `functions/execute/run.sh`, started the
way the adapter starts it (working directory the function's code, `PORT` set): it serves the same ASGI
app as `tollgate serve`, health and a chat call included, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support import free_port, wait_until_answers

ROOT = Path(__file__).resolve().parents[2]
ROOT_KEY = "tg_root_run_script_test_key_0123456789"


@contextmanager
def run_script(home: Path) -> Iterator[str]:
    database = f"sqlite:///{home}/tollgate.db"
    env = {
        **os.environ,
        "PORT": str(free_port()),
        "TOLLGATE_HOME": str(home),
        "TOLLGATE_DATABASE_URL": database,
        "TOLLGATE_ROOT_KEY": ROOT_KEY,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "shared")]),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    subprocess.run([sys.executable, "-m", "tollgate.cli", "migrate", "--db", database], env=env, check=True)
    process = subprocess.Popen(
        ["sh", "run.sh"], cwd=ROOT / "functions" / "execute", env=env, stderr=subprocess.PIPE, start_new_session=True
    )
    base_url = f"http://127.0.0.1:{env['PORT']}"
    try:
        wait_until_answers(f"{base_url}/health", process)
        yield base_url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught (exit status -SIGTERM)
        assert process.wait(timeout=20) in (0, -signal.SIGTERM)
        error = process.stderr.read().decode(errors="replace") if process.stderr else ""
        assert "Traceback" not in error, error


def test_run_sh_serves_the_gateway_app(tmp_path: Path) -> None:
    with run_script(tmp_path) as base_url:
        assert httpx.get(f"{base_url}/health", timeout=5).status_code == 200
        root = {"Authorization": f"Bearer {ROOT_KEY}"}
        workspace = httpx.post(f"{base_url}/v1/workspaces", json={"name": "lambda"}, headers=root, timeout=10)
        assert workspace.status_code == 201, workspace.text
        created = httpx.post(
            f"{base_url}/v1/keys",
            json={"workspace_id": workspace.json()["id"], "name": "caller", "role": "admin"},
            headers=root,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        answer = httpx.post(
            f"{base_url}/v1/chat/completions",
            json={"model": "mock/echo", "messages": [{"role": "user", "content": "hello from run.sh"}]},
            headers={"Authorization": f"Bearer {created.json()['key']}", "X-Forwarded-For": "203.0.113.9"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        assert "hello from run.sh" in answer.json()["choices"][0]["message"]["content"]
