"""Cold start of the execute Lambda: the init phase (the handler module's imports and module-level
set-up, what Lambda reports as "Init Duration"), then the first invocation (services and clients
built on first use: settings, the database engine and its first connection, the key cache, the
upstream client) and a warm one, each in a fresh interpreter, as a new Lambda container would.

    python -m tests.bench.bench_lambda_init [--runs 7] [--db postgres|sqlite] [--imports 12]

The database is a real PostgreSQL (pgserver; the Lambda's RDS) or SQLite, migrated and given a
workspace and an admin key by a `tollgate serve` started once before the runs. The invocation is
``events/execute/chat.json`` on the ``mock/echo`` model (no provider key to decrypt, so no KMS
call: in AWS the first call that decrypts a provider key adds one KMS round trip). Times are the
median over the runs, measured inside the fresh process from its first line (the interpreter's own
start-up, ~15 ms here, comes before that and is reported as ``python_startup_ms``).
``--imports N`` lists the N modules with the largest own import time (``python -X importtime``),
to show where the init phase goes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.bench.harness import admin_key, print_table, tollgate_server, write_json
from tests.bench.inflight import postgres_url

TARGET_INIT_MS = 400
REPO = Path(__file__).resolve().parents[2]

# Runs in the fresh interpreter: one cold container, then one warm invocation.
_CONTAINER = r"""
import time
started = time.perf_counter()
import json, sys
from functions.execute.handler import handler
imported = time.perf_counter()

class Context:
    function_name = "execute"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:execute"
    aws_request_id = "bench"
    def get_remaining_time_in_millis(self):
        return 30_000

event = json.loads(sys.argv[1])
answers = []
for _ in range(2):
    begun = time.perf_counter()
    result = handler(json.loads(json.dumps(event)), Context())
    answers.append(((time.perf_counter() - begun) * 1000, result["statusCode"]))
print(json.dumps({
    "init_ms": (imported - started) * 1000,
    "first_invoke_ms": answers[0][0],
    "warm_invoke_ms": answers[1][0],
    "statuses": [status for _, status in answers],
    "body": result["body"][:300],
}))
"""


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "postgres":
        with postgres_url() as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="tg-bench-lambda-") as folder:
        yield f"sqlite:///{folder}/tollgate.db"


def chat_event(key: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((REPO / "events" / "execute" / "chat.json").read_text())
    event["headers"] = {**event["headers"], "authorization": f"Bearer {key}"}
    return event


def container_env(database_url: str, home: str) -> dict[str, str]:
    """A Lambda-like environment: settings from TOLLGATE_* variables, nothing else inherited that
    could change what gets imported."""
    keep = {"PATH", "LANG", "LC_ALL", "HOME", "TMPDIR"}
    environment = {name: value for name, value in os.environ.items() if name in keep}
    environment.update(
        PYTHONPATH=f"{REPO / 'shared'}{os.pathsep}{REPO}",
        TOLLGATE_DATABASE_URL=database_url,
        TOLLGATE_HOME=home,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_LAMBDA_FUNCTION_NAME="execute",
        POWERTOOLS_SERVICE_NAME="tollgate-execute",
    )
    return environment


def one_container(event: dict[str, Any], environment: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", _CONTAINER, json.dumps(event)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the container failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["statuses"] != [200, 200]:
        raise RuntimeError(f"the invocations answered {result['statuses']}: {result['body']}")
    return result


def python_startup_ms(environment: dict[str, str], runs: int) -> float:
    """The bare interpreter's start-up and exit (``python -c pass``), for scale."""
    times = []
    for _ in range(runs):
        begun = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=environment, check=True)  # noqa: S603
        times.append((time.perf_counter() - begun) * 1000)
    return statistics.median(times)


def heaviest_imports(environment: dict[str, str], count: int) -> list[tuple[int, int, str]]:
    """(own µs, cumulative µs, module) of the ``count`` modules with the largest own import time."""
    done = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-X", "importtime", "-c", "import functions.execute.handler"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((int(own), int(cumulative), name.rstrip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--imports", type=int, default=12, help="list the N heaviest imports (0: none)")
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args()
    with database(args.db) as url, tempfile.TemporaryDirectory(prefix="tg-bench-lambda-home-") as home:
        with tollgate_server(url) as gateway:  # migrates; the workspace and key the event calls with
            event = chat_event(admin_key(gateway.base_url))
        environment = container_env(url, home)
        samples = []
        for run in range(args.runs):
            samples.append(one_container(event, environment))
            print(f"container {run + 1}/{args.runs}: init {samples[-1]['init_ms']:.0f} ms", file=sys.stderr)
        startup = python_startup_ms(environment, args.runs)
        imports = heaviest_imports(environment, args.imports) if args.imports else []
    row = {
        "db": args.db,
        "runs": args.runs,
        "python_startup_ms": round(startup, 1),
        **{
            name: round(statistics.median(sample[name] for sample in samples), 1)
            for name in ("init_ms", "first_invoke_ms", "warm_invoke_ms")
        },
        "init_target_ms": TARGET_INIT_MS,
    }
    stamp = f"{platform.node()} ({platform.machine()}, {platform.python_version()})"
    stamp += f", {datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    print_table(f"execute Lambda cold start (median of {args.runs} fresh processes) — {stamp}", [row])
    if imports:
        print("\nheaviest imports by own time (python -X importtime, one run; µs):")
        for own, cumulative, name in imports:
            print(f"  {own:>8}  {cumulative:>9}  {name}")
    write_json(args.json, {"machine": stamp, "rows": [row], "imports": imports})


if __name__ == "__main__":
    main()
