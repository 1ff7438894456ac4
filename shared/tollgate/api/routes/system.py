"""Health and the OpenAPI document (served by the `usage` function on AWS)."""

from __future__ import annotations

from sqlalchemy import text

from tollgate import __version__
from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse, json_response
from tollgate.api.router import PUBLIC, Router

router = Router("usage")


@router.route("GET", "/health", roles=PUBLIC, summary="Liveness and database reachability")
def health(ctx: RequestContext) -> ApiResponse:
    try:
        with ctx.services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database = "ok"
    except Exception:
        database = "unreachable"
    status = 200 if database == "ok" else 503
    body: dict[str, object] = {"status": "ok" if status == 200 else "degraded", "version": __version__}
    body["database"] = database
    if database == "ok":
        body["pricing"] = _pricing_health(ctx)
    return json_response(body, status=status)


def _pricing_health(ctx: RequestContext) -> dict[str, object]:
    """Stale prices do not make the gateway unhealthy (it still bills with the last good prices),
    but they are reported so monitoring can alert."""
    from tollgate.pricing.catalog import PriceCatalog

    settings = ctx.services.settings
    view = PriceCatalog(ctx.services.sessions, ctx.services.clock, settings.pricing_stale_after_s).status()
    return {
        "stale": view.stale,
        "last_success_at": view.last_success_at.isoformat() if view.last_success_at else None,
        "age_s": view.age_s,
        "model_count": view.model_count,
        "last_error": view.last_error is not None,
    }


@router.route("GET", "/openapi.json", roles=PUBLIC, summary="This API's OpenAPI 3.1 document")
def openapi(ctx: RequestContext) -> ApiResponse:
    from tollgate.api.openapi import build_openapi
    from tollgate.api.routes import all_routers

    return json_response(build_openapi(all_routers()))
