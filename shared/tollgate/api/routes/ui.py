"""The dashboard's static files on the local server (on AWS they are on S3 behind CloudFront)."""

from __future__ import annotations

from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse
from tollgate.api.router import PUBLIC, Router
from tollgate.errors import NotFound
from tollgate.ui.assets import SECURITY_HEADERS, find_asset

router = Router("ui")


@router.route("GET", "/ui", roles=PUBLIC, summary="Dashboard (local server only): redirect to /ui/")
def ui_root(ctx: RequestContext) -> ApiResponse:
    return ApiResponse(status=308, headers={"location": "/ui/", **SECURITY_HEADERS}, content_type="text/plain")


@router.route("GET", "/ui/", roles=PUBLIC, summary="Dashboard (local server only): the page")
def ui_index(ctx: RequestContext) -> ApiResponse:
    return _serve("index.html")


@router.route("GET", "/ui/{path:path}", roles=PUBLIC, summary="Dashboard (local server only): static assets")
def ui_asset(ctx: RequestContext) -> ApiResponse:
    return _serve(ctx.path_params["path"])


def _serve(path: str) -> ApiResponse:
    asset = find_asset(path)
    if asset is None:
        raise NotFound("No such dashboard file", code="not_found")
    return ApiResponse(status=200, body=asset.body, headers=dict(SECURITY_HEADERS), content_type=asset.content_type)
