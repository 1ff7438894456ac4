"""Dialect-specific INSERT (both have ``on_conflict_do_update``), chosen by dialect name."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(dialect: str, table: Any) -> Any:
    """The dialect's INSERT (with ON CONFLICT support).
    Raises ``RuntimeError`` for a dialect other than PostgreSQL or SQLite."""
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect: {dialect}")
