"""Routes of the `keys` function: workspaces (root), the caller's own workspace and gateway keys (admin)."""

from __future__ import annotations

from functools import partial

from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse, json_response
from tollgate.api.paging import id_page
from tollgate.api.router import ADMIN, ADMIN_OR_ROOT, ROOT, Router
from tollgate.api.schemas.common import PageQuery
from tollgate.api.schemas.keys import (
    KeyCreated,
    KeyIn,
    KeyOut,
    KeyPatch,
    WorkspaceIn,
    WorkspaceOut,
    WorkspacePatch,
)
from tollgate.db.models import GatewayKey
from tollgate.errors import InvalidRequest, NotFound
from tollgate.keys.service import KEY_LIMIT_FIELDS

router = Router("keys")


def key_out(row: GatewayKey) -> KeyOut:
    return KeyOut.model_validate(row, from_attributes=True)


@router.route(
    "POST",
    "/v1/workspaces",
    roles=ROOT,
    summary="Create a workspace",
    body=WorkspaceIn,
    response=WorkspaceOut,
    status=201,
)
def create_workspace(ctx: RequestContext) -> ApiResponse:
    body = ctx.body(WorkspaceIn)
    workspace = ctx.services.workspaces.create(body.name, body.unpriced_policy)
    return json_response(WorkspaceOut.model_validate(workspace, from_attributes=True), status=201)


@router.route("GET", "/v1/workspaces", roles=ROOT, summary="List workspaces", query=PageQuery)
def list_workspaces(ctx: RequestContext) -> ApiResponse:
    return id_page(
        ctx, ctx.services.workspaces.list_page, lambda row: WorkspaceOut.model_validate(row, from_attributes=True)
    )


@router.route("GET", "/v1/workspace", roles=ADMIN, summary="The caller's own workspace", response=WorkspaceOut)
def get_own_workspace(ctx: RequestContext) -> ApiResponse:
    workspace = ctx.services.workspaces.get(ctx.workspace_id)
    return json_response(WorkspaceOut.model_validate(workspace, from_attributes=True))


@router.route(
    "PATCH",
    "/v1/workspace",
    roles=ADMIN,
    summary="Rename the caller's workspace, set its unpriced policy or display currency",
    body=WorkspacePatch,
    response=WorkspaceOut,
)
def patch_own_workspace(ctx: RequestContext) -> ApiResponse:
    body = ctx.body(WorkspacePatch)
    workspace = ctx.services.workspaces.update(ctx.workspace_id, body.changes())
    return json_response(WorkspaceOut.model_validate(workspace, from_attributes=True))


@router.route(
    "POST",
    "/v1/keys",
    roles=ADMIN_OR_ROOT,
    summary="Create a gateway key (secret returned once)",
    body=KeyIn,
    response=KeyCreated,
    status=201,
)
def create_key(ctx: RequestContext) -> ApiResponse:
    body = ctx.body(KeyIn)
    if ctx.caller.is_root:
        if body.workspace_id is None:
            raise InvalidRequest("body.workspace_id: required when using the root key", code="validation_error")
        workspace_id = body.workspace_id
    else:
        workspace_id = ctx.workspace_id
        if body.workspace_id is not None and body.workspace_id != workspace_id:
            raise NotFound("No such workspace")
    limits = body.model_dump(include=set(KEY_LIMIT_FIELDS), exclude_unset=True)
    created = ctx.services.gateway_keys.create(workspace_id, body.name, body.role, limits)
    out = KeyCreated(**key_out(created.row).model_dump(), key=created.plaintext)
    return json_response(out, status=201)


@router.route("GET", "/v1/keys", roles=ADMIN, summary="List gateway keys", query=PageQuery)
def list_keys(ctx: RequestContext) -> ApiResponse:
    return id_page(ctx, partial(ctx.services.gateway_keys.list_page, ctx.workspace_id), key_out)


@router.route("DELETE", "/v1/keys/{id}", roles=ADMIN, summary="Revoke a gateway key", response=KeyOut)
def revoke_key(ctx: RequestContext) -> ApiResponse:
    row = ctx.services.gateway_keys.revoke(ctx.workspace_id, ctx.path_id())
    return json_response(key_out(row))


@router.route(
    "PATCH",
    "/v1/keys/{id}",
    roles=ADMIN,
    summary="Rename a gateway key or change its limits",
    body=KeyPatch,
    response=KeyOut,
)
def patch_key(ctx: RequestContext) -> ApiResponse:
    body = ctx.body(KeyPatch)
    row = ctx.services.gateway_keys.update(ctx.workspace_id, ctx.path_id(), body.changes())
    return json_response(key_out(row))
