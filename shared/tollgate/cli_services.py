"""What every ``tollgate`` subcommand shares: the ``--db`` option and the services it builds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tollgate.config import Settings

if TYPE_CHECKING:
    from tollgate.wiring import Services

DbOption = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL (default: SQLite under ~/.tollgate)")]


def services_for(db: str | None) -> Services:
    """Services on ``db`` (default: the configured database) with migrations applied.

    Raises what ``prepare_database`` raises when the database cannot be reached or migrated."""
    from tollgate.bootstrap import prepare_database
    from tollgate.wiring import Services

    overrides: dict[str, Any] = {"database_url": db} if db else {}
    services = Services(Settings(**overrides))
    prepare_database(services)
    return services
