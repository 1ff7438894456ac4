"""Migration 0602 (routing rules, guardrail settings, security events, usage_records.routing_rule_id)
runs down and up on both databases."""

from __future__ import annotations

from sqlalchemy import inspect

from tollgate.db.migrate import upgrade
from tollgate.wiring import Services

NEW_TABLES = {"routing_rules", "guardrail_settings", "security_events"}


def _state(services: Services) -> tuple[set[str], set[str], set[str]]:
    inspector = inspect(services.engine)
    tables = set(inspector.get_table_names())
    columns = {c["name"] for c in inspector.get_columns("usage_records")}
    indexes = {i["name"] or "" for i in inspector.get_indexes("usage_records")}
    return tables, columns, indexes


def test_migration_0602_downgrades_and_upgrades(services: Services) -> None:
    from alembic import command

    from tollgate.db.migrate import alembic_config

    tables, columns, indexes = _state(services)
    assert tables >= NEW_TABLES and "routing_rule_id" in columns and "ix_usage_records_ws_rule" in indexes
    config = alembic_config()
    with services.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0501")
        connection.commit()
    tables, columns, indexes = _state(services)
    assert not NEW_TABLES & tables and "routing_rule_id" not in columns
    upgrade(services.engine)
    tables, columns, _ = _state(services)
    assert tables >= NEW_TABLES and "routing_rule_id" in columns
