"""Test helpers shared by every suite: databases, services, a live local server, tenants."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import httpx
import uvicorn
from sqlalchemy import create_engine, delete, text, update

from tollgate.bootstrap import prepare_database
from tollgate.config import Settings
from tollgate.db.models import ModelPrice, PricingStatus
from tollgate.pricing.status import count_priced_models
from tollgate.server import build_asgi
from tollgate.wiring import Services, set_services

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "events"
ROOT_KEY = "tg_roottestkey0_" + "r" * 32


class HttpResponse(Protocol):
    """What ``assert_error`` reads: an ``httpx.Response``, or the one an SDK error carries (the
    openai SDK's comes from its own httpx copy)."""

    @property
    def status_code(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    def json(self) -> Any: ...


def assert_error(
    response: HttpResponse, status: int | tuple[int, ...], error_type: str, code: str | None = None
) -> dict[str, Any]:
    """Assert ``response`` is the documented error (docs/api.md) and return its ``error`` object.

    Checks the status (one, or any of a tuple), that the body is ``{"error": {...}}`` and nothing
    else, that the object has ``type``, ``code``, ``message`` and ``request_id``, the type (and the
    code when given), and that ``request_id`` is the ``x-request-id`` header."""
    allowed = status if isinstance(status, tuple) else (status,)
    assert response.status_code in allowed, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert {"type", "code", "message", "request_id"} <= set(error), error
    assert error["type"] == error_type, error
    assert error["request_id"] == response.headers["x-request-id"]
    if code is not None:
        assert error["code"] == code, error
    return error


def load_event(name: str, **overrides: Any) -> dict[str, Any]:
    """Load ``events/<function>/<scenario>.json`` and shallow-merge overrides."""
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    event.update(overrides)
    return event


class PostgresCluster:
    """One real PostgreSQL per test session (pgserver, or TEST_DATABASE_URL) with a migrated
    template database; each test gets a fresh copy made with CREATE DATABASE ... TEMPLATE."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._template = "tollgate_template"
        self._counter = 0
        self._lock = threading.Lock()
        with self._admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {self._template}"))
            conn.execute(text(f"CREATE DATABASE {self._template}"))
        seed_template(self.url_for(self._template))

    def url_for(self, database: str) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def fresh_database(self) -> str:
        with self._lock:
            self._counter += 1
            name = f"t_{os.getpid()}_{self._counter}_{uuid.uuid4().hex[:6]}"
        with self._admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {self._template}"))
        return self.url_for(name)


def seed_template(database_url: str) -> None:
    """Migrate and seed (built-in and snapshot prices) once; tests then copy the result."""
    services = Services(Settings(database_url=database_url, root_key=ROOT_KEY))
    try:
        prepare_database(services)
    finally:
        services.close()


def sqlite_template(folder: Path) -> Path:
    path = folder / "template.db"
    seed_template(f"sqlite:///{path}")
    return path


def copy_sqlite(template: Path, target: Path) -> str:
    """A test's own SQLite database: a copy of the migrated, seeded template (WAL checkpointed)."""
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def start_postgres(base_dir: Path) -> tuple[str, Any]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1), None
    import pgserver

    server = pgserver.get_server(str(base_dir / "pgdata"), cleanup_mode="stop")
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=/path
    return uri.replace("postgresql://", "postgresql+psycopg://", 1), server


def make_services(
    database_url: str, home: Path, *, overrides: dict[str, Any] | None = None, **settings: Any
) -> Services:
    """Services on a prepared copy of the test database. ``settings`` are ``Settings`` fields;
    ``overrides`` pre-fill components (``Services(settings, **overrides)``: e.g. a recording ``sleep``)."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "home": home,
        "root_key": ROOT_KEY,
        "allow_local_network": True,
    }
    values.update(settings)
    services = Services(Settings(**values), **(overrides or {}))
    prepare_database(services)
    if settings.get("pricing_seed_snapshot") is False:
        unseed_feed_prices(services)
    return services


@contextmanager
def installed_services(database_url: str, home: Path, **settings: Any) -> Iterator[Services]:
    """``make_services`` installed as the process's services (what handlers and the server use)
    for the block; uninstalled and closed after it."""
    built = make_services(database_url, home, **settings)
    set_services(built)
    try:
        yield built
    finally:
        set_services(None)
        built.close()


def unseed_feed_prices(services: Services) -> None:
    """Test databases are copies of a template with the packaged snapshot seeded; a test that asks
    for no snapshot gets the feed rows and their status removed (as if seeding were off)."""
    with services.sessions.begin() as session:
        session.execute(delete(ModelPrice).where(ModelPrice.source.in_(("litellm", "openrouter"))))
        models = count_priced_models(session)
        session.execute(update(PricingStatus).values(source_versions={}, model_count=models, rows_written=0))


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 (a free port) from a thread; yields ``http://127.0.0.1:<port>``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_answers(url: str, process: subprocess.Popen[bytes], *, timeout_s: float = 60.0) -> None:
    """Poll ``url`` (GET, every 0.1 s) until a server process answers it with a status below 500.

    Raises ``RuntimeError`` with the process's stderr (when piped) if the process exits first or
    ``timeout_s`` passes."""
    give_up = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > give_up:
            error = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"{url} did not answer: {error}")
        time.sleep(0.1)


@dataclass
class LiveServer:
    base_url: str
    services: Services

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/v1"


@contextmanager
def serve_in_thread(app: Any, what: str, *, backlog: int = 2048) -> Iterator[int]:
    """Serve the ASGI ``app`` with uvicorn on 127.0.0.1 (a free port) from a thread with its own
    event loop; yields the port once it accepts connections. Raises ``RuntimeError`` naming
    ``what`` when it has not started within 10 s."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off", backlog=backlog
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def run_server(services: Services, workers: int = 8) -> Iterator[LiveServer]:
    """The app on uvicorn in a thread (its own event loop); ``workers`` threads serve sync routes."""
    with serve_in_thread(build_asgi(services, sync_workers=workers), "local server") as port:
        yield LiveServer(f"http://127.0.0.1:{port}", services)


@dataclass(frozen=True)
class Tenant:
    workspace_id: uuid.UUID
    admin_key: str
    admin_key_id: uuid.UUID


def make_tenant(services: Services, name: str = "acme") -> Tenant:
    workspace = services.workspaces.create(name)
    created = services.gateway_keys.create(workspace.id, "admin", "admin")
    return Tenant(workspace.id, created.plaintext, created.row.id)


def make_key(services: Services, workspace_id: uuid.UUID, role: str = "member") -> str:
    return services.gateway_keys.create(workspace_id, f"{role}-key", role).plaintext
