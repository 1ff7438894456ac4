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
    return json_response(
        {"status": "ok" if status == 200 else "degraded", "version": __version__, "database": database}, status=status
    )


@router.route("GET", "/openapi.json", roles=PUBLIC, summary="This API's OpenAPI 3.1 document")
def openapi(ctx: RequestContext) -> ApiResponse:
    from tollgate.api.openapi import build_openapi
    from tollgate.api.routes import all_routers

    return json_response(build_openapi(all_routers()))
