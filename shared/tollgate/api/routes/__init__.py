"""Route modules per Lambda function. The local server mounts all of them; a Lambda imports only
the modules whose routes it serves (cold-start time)."""

from __future__ import annotations

from importlib import import_module

from tollgate.api.router import Router

# function -> the route modules holding its routers (a module may serve several functions)
MODULES_BY_FUNCTION: dict[str, tuple[str, ...]] = {
    "execute": ("execute", "messages", "embeddings", "pricing"),
    "keys": ("keys", "credentials"),
    "budgets": ("budgets", "alert_channels"),
    "usage": ("usage", "pricing", "system"),
    "pricing_updater": ("pricing",),
    "ui": ("ui",),
}
_ROUTER_NAMES = ("router", "updater", "estimator")


def _routers_in(module_name: str) -> list[Router]:
    module = import_module(f"tollgate.api.routes.{module_name}")
    return [getattr(module, name) for name in _ROUTER_NAMES if isinstance(getattr(module, name, None), Router)]


def routers_for(function: str) -> list[Router]:
    found = [r for name in MODULES_BY_FUNCTION.get(function, ()) for r in _routers_in(name)]
    return [r for r in found if r.function == function]


def all_routers() -> list[Router]:
    names = dict.fromkeys(name for modules in MODULES_BY_FUNCTION.values() for name in modules)
    return [r for name in names for r in _routers_in(name)]
