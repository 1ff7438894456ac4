"""Route modules per Lambda function. The local server mounts all of them."""

from __future__ import annotations

from tollgate.api.router import Router


def routers_for(function: str) -> list[Router]:
    return [r for r in all_routers() if r.function == function]


def all_routers() -> list[Router]:
    from tollgate.api.routes import execute, keys, system, usage

    return [execute.router, keys.router, system.router, usage.router]
