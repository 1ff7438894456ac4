"""What the execute Lambda loads in its init phase (cold start; ``tests/bench/bench_lambda_init.py``
measures it): only its own function's routes, and not httpx, which only the synchronous
management client uses (``tollgate.providers.http_sync``). Checked in a child interpreter, whose
modules are the handler's alone."""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import json, sys
import functions.execute.handler
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in {"httpx", "tollgate"})))
"""


def _loaded_by_the_handler() -> set[str]:
    done = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_execute_handler_loads_neither_httpx_nor_other_functions_routes() -> None:
    loaded = _loaded_by_the_handler()
    assert "tollgate.providers.http" in loaded and "tollgate.api.routes.execute" in loaded
    assert not {name for name in loaded if name == "httpx" or name.startswith("httpx.")}
    assert "tollgate.providers.http_sync" not in loaded
    for other in ("keys", "credentials", "budgets", "usage", "ui"):
        assert f"tollgate.api.routes.{other}" not in loaded
