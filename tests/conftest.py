"""Fixtures: every database test runs on SQLite and on a real PostgreSQL (pgserver or TEST_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import (
    LiveServer,
    PostgresCluster,
    Tenant,
    copy_sqlite,
    installed_services,
    make_tenant,
    run_server,
    sqlite_template,
    start_postgres,
)
from tollgate.config import get_settings
from tollgate.wiring import Services


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    url, server = start_postgres(tmp_path_factory.mktemp("pg"))
    try:
        yield PostgresCluster(url)
    finally:
        if server is not None:
            server.cleanup()


@pytest.fixture(scope="session")
def sqlite_seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return copy_sqlite(request.getfixturevalue("sqlite_seeded"), tmp_path / "tollgate.db")
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return cluster.fresh_database()


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_seeded: Path) -> str:
    return copy_sqlite(sqlite_seeded, tmp_path / "tollgate.db")


@pytest.fixture
def services(db_url: str, tmp_path: Path) -> Iterator[Services]:
    with installed_services(db_url, tmp_path) as built:
        yield built


@pytest.fixture
def tenant(services: Services) -> Tenant:
    return make_tenant(services)


@pytest.fixture
def live_server(services: Services) -> Iterator[LiveServer]:
    with run_server(services) as server:
        yield server


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No test reads the developer's ~/.tollgate, OS keyring or real AWS credentials."""
    import keyring
    from keyring.backends.fail import Keyring as NoKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(NoKeyring())  # the local master key falls back to a 0600 file in tmp home
    monkeypatch.setenv("TOLLGATE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    keyring.set_keyring(previous)
