"""Reliability fixtures: a switchable database outage (real on PostgreSQL), an admin HTTP client,
and an OpenAI fake whose default reply can run a hook first (to break things mid-request)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from tests.fake_providers import openai_server
from tests.fake_providers.base import FakeProvider, Recorded, Reply, running
from tests.support import LiveServer, PostgresCluster, Tenant
from tollgate.wiring import Services


class DatabaseOutage:
    """Makes the gateway's database unreachable, then brings it back.

    PostgreSQL: the database stops accepting connections (``ALLOW_CONNECTIONS false``) and every
    backend connected to it is killed with ``pg_terminate_backend`` — the pooled connections of the
    gateway really die. SQLite has no server to take away, so the engine's connect hook raises the
    error sqlite3 raises for an unreachable file and the pool is emptied (honest simulation)."""

    def __init__(self, services: Services, cluster: PostgresCluster | None) -> None:
        self.engine: Engine = services.engine
        self.down = False
        self._admin: Engine | None = None
        self._name = make_url(services.database_url).database
        if cluster is not None:
            self._admin = create_engine(cluster.admin_url, isolation_level="AUTOCOMMIT")
        else:
            event.listen(self.engine, "do_connect", self._refuse)

    def _refuse(self, *_args: Any) -> None:
        if self.down:
            raise sqlite3.OperationalError("unable to open database file")

    def start(self) -> None:
        self.down = True
        if self._admin is None:
            self.engine.pool.dispose()
            return
        with self._admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self._name}" WITH ALLOW_CONNECTIONS false'))
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                {"name": self._name},
            )

    def stop(self) -> None:
        self.down = False
        if self._admin is not None:
            with self._admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{self._name}" WITH ALLOW_CONNECTIONS true'))
        self.engine.pool.dispose()  # connections killed during the outage are not reused

    def close(self) -> None:
        if self.down:
            self.stop()
        if self._admin is not None:
            self._admin.dispose()
        else:
            event.remove(self.engine, "do_connect", self._refuse)


@pytest.fixture
def outage(services: Services, request: pytest.FixtureRequest) -> Iterator[DatabaseOutage]:
    cluster = request.getfixturevalue("postgres") if services.engine.dialect.name == "postgresql" else None
    switch = DatabaseOutage(services, cluster)
    try:
        yield switch
    finally:
        switch.close()


@dataclass
class HookedUpstream:
    """The OpenAI fake; ``before_reply`` hooks run in the fake's thread when a request arrives."""

    fake: FakeProvider
    before_reply: list[Callable[[Recorded], None]] = field(default_factory=list)


@pytest.fixture
def upstream() -> Iterator[HookedUpstream]:
    hooks: list[Callable[[Recorded], None]] = []
    reply = openai_server.default_reply()

    def default(recorded: Recorded) -> Reply:
        for hook in hooks:
            hook(recorded)
        return reply(recorded)  # type: ignore[no-any-return]

    with running(FakeProvider(default)) as fake:
        yield HookedUpstream(fake, hooks)


def admin_client(server: LiveServer, tenant: Tenant) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {tenant.admin_key}"}, timeout=30)
