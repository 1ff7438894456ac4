"""The migrate Lambda, invoked with CloudFormation custom-resource events, on an empty database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from functions.migrate.handler import handler
from tests.fakes.lambda_context import FakeLambdaContext
from tests.support import PostgresCluster, load_event
from tollgate.config import Settings
from tollgate.db.engine import create_db_engine
from tollgate.db.migrate import MIGRATIONS_DIR
from tollgate.wiring import Services, set_services


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.fresh_database()
    engine = create_db_engine(url)
    with engine.begin() as conn:  # a fresh copy of the template is already migrated: empty it
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    return url


def test_create_and_update_migrate_to_head_and_delete_is_a_no_op(empty_database: str, tmp_path: Path) -> None:
    services = Services(Settings(database_url=empty_database, home=tmp_path))
    set_services(services)
    try:
        head = sorted(p.name.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("*.py"))[-1]
        created = handler(load_event("migrate/create.json"), FakeLambdaContext())
        assert created == {"PhysicalResourceId": "tollgate-migrations", "Data": {"Revision": head}}
        assert "usage_records" in inspect(services.engine).get_table_names()
        updated = handler(load_event("migrate/update.json"), FakeLambdaContext())
        assert updated["PhysicalResourceId"] == "tollgate-migrations"
        deleted = handler(load_event("migrate/delete.json"), FakeLambdaContext())
        assert deleted == {"PhysicalResourceId": "tollgate-migrations"}
        assert "usage_records" in inspect(services.engine).get_table_names()
    finally:
        set_services(None)
        services.close()
