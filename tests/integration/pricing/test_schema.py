"""Migration 0201 runs both ways on both databases; the OpenAPI document lists the pricing routes."""

from __future__ import annotations

import httpx
from sqlalchemy import inspect

from tests.support import LiveServer
from tollgate.db.migrate import current_revision, upgrade
from tollgate.wiring import Services

NEW_COLUMNS = {"cache_write_above_tier_per_1m", "cache_write_1h_above_tier_per_1m"}


def _columns(services: Services) -> set[str]:
    return {c["name"] for c in inspect(services.engine).get_columns("model_prices")}


def test_migration_0201_downgrades_and_upgrades(services: Services) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from tollgate.db.migrate import alembic_config

    config = alembic_config()
    assert current_revision(services.engine) == ScriptDirectory.from_config(config).get_current_head()
    assert _columns(services) >= NEW_COLUMNS
    with services.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
        connection.commit()
    assert not NEW_COLUMNS & _columns(services)
    upgrade(services.engine)
    assert _columns(services) >= NEW_COLUMNS


def test_openapi_lists_the_pricing_routes(live_server: LiveServer) -> None:
    paths = httpx.get(live_server.base_url + "/openapi.json", timeout=10).json()["paths"]
    for path in (
        "/v1/pricing",
        "/v1/pricing/status",
        "/v1/pricing/{provider}/{model}",
        "/v1/pricing/refresh",
        "/v1/cost/estimate",
    ):
        assert path in paths
