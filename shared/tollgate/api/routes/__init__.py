"""The one route table: every router, registered explicitly with the function that serves it.

The local server mounts all of them; a Lambda imports only the modules of its own function
(cold-start time); OpenAPI is built from them; and the deployed API Gateway routes are generated
from ``route_table()`` (``python -m tollgate.api.route_table`` writes the JSON infra reads, and a
test fails when the two differ). A route can therefore not exist in one and not the others.
To add routes: add the router here (a new module) or add ``@router.route`` to a registered one.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from tollgate.api.router import Router


@dataclass(frozen=True)
class RouterRef:
    """``tollgate.api.routes.<module>.<attribute>`` is a ``Router`` serving ``function``."""

    function: str
    module: str
    attribute: str = "router"


ROUTERS: tuple[RouterRef, ...] = (
    RouterRef("execute", "execute"),
    RouterRef("execute", "messages"),
    RouterRef("execute", "embeddings"),
    RouterRef("execute", "pricing", "estimator"),
    RouterRef("execute", "rules"),
    RouterRef("keys", "keys"),
    RouterRef("keys", "credentials"),
    RouterRef("budgets", "budgets"),
    RouterRef("budgets", "alert_channels"),
    RouterRef("usage", "usage"),
    RouterRef("usage", "pricing"),
    RouterRef("usage", "fx"),
    RouterRef("usage", "system"),
    RouterRef("pricing_updater", "pricing", "updater"),
    RouterRef("ui", "ui"),
)

# Functions served only by the local server (the dashboard is a static site on AWS).
LOCAL_ONLY_FUNCTIONS = frozenset({"ui"})


def _load(ref: RouterRef) -> Router:
    router = getattr(import_module(f"tollgate.api.routes.{ref.module}"), ref.attribute)
    if not isinstance(router, Router) or router.function != ref.function:
        raise RuntimeError(f"{ref} is not a Router of function {ref.function!r}")
    return router


def routers_for(function: str) -> list[Router]:
    return [_load(ref) for ref in ROUTERS if ref.function == function]


def all_routers() -> list[Router]:
    return [_load(ref) for ref in ROUTERS]


def functions() -> list[str]:
    return list(dict.fromkeys(ref.function for ref in ROUTERS))
