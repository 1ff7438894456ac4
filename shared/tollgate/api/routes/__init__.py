"""Route modules per Lambda function. The local server mounts all of them."""

from __future__ import annotations

from tollgate.api.router import Router


def routers_for(function: str) -> list[Router]:
    return [r for r in all_routers() if r.function == function]


def all_routers() -> list[Router]:
    from tollgate.api.routes import alert_channels, budgets, credentials, execute, keys, pricing, system, ui, usage

    return [
        execute.router,
        keys.router,
        credentials.router,
        system.router,
        budgets.router,
        alert_channels.router,
        pricing.router,
        pricing.updater,
        pricing.estimator,
        usage.router,
        ui.router,
    ]
