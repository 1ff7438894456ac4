"""Routes of the `keys` function: provider credentials (admin). Keys go in, only hints come out."""

from __future__ import annotations

from dataclasses import asdict
from functools import partial

from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse, json_response
from tollgate.api.paging import id_page
from tollgate.api.router import ADMIN, Router
from tollgate.api.schemas.common import PageQuery
from tollgate.api.schemas.credentials import (
    CheckOut,
    CredentialHealthOut,
    CredentialIn,
    CredentialOut,
    CredentialPatch,
    DiscoverOut,
    RotateIn,
)
from tollgate.db.models import ProviderCredential
from tollgate.keys.credential_check import CheckResult, check_target

router = Router("keys")


def credential_out(row: ProviderCredential) -> CredentialOut:
    return CredentialOut(
        id=row.id,
        provider=row.provider,
        name=row.name,
        base_url=row.base_url,
        default_model=row.default_model,
        options=dict(row.options or {}),
        priority=row.priority,
        is_primary=row.is_primary,
        is_active=row.is_active,
        key_hint=row.key_hint,
        has_key=row.key_ciphertext is not None,
        free=row.free,
        models=list(row.models) if row.models is not None else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        rotated_at=row.rotated_at,
    )


def check_out(result: CheckResult) -> CheckOut:
    return CheckOut.model_validate(asdict(result))


@router.route(
    "POST", "/v1/credentials", roles=ADMIN, summary="Add a provider credential", body=CredentialIn,
    response=CredentialOut, status=201,
)  # fmt: skip
def create_credential(ctx: RequestContext) -> ApiResponse:
    spec = ctx.body(CredentialIn).to_spec()
    row = ctx.services.credential_service.create(ctx.workspace_id, spec)
    return json_response(credential_out(row), status=201)


@router.route("GET", "/v1/credentials", roles=ADMIN, summary="List provider credentials", query=PageQuery)
def list_credentials(ctx: RequestContext) -> ApiResponse:
    return id_page(ctx, partial(ctx.services.credential_service.list_page, ctx.workspace_id), credential_out)


@router.route("GET", "/v1/credentials/{id}", roles=ADMIN, summary="Get a provider credential", response=CredentialOut)
def get_credential(ctx: RequestContext) -> ApiResponse:
    return json_response(credential_out(ctx.services.credential_service.get(ctx.workspace_id, ctx.path_id())))


@router.route(
    "PATCH", "/v1/credentials/{id}", roles=ADMIN, summary="Change a provider credential", body=CredentialPatch,
    response=CredentialOut,
)  # fmt: skip
def patch_credential(ctx: RequestContext) -> ApiResponse:
    changes = ctx.body(CredentialPatch).changes()
    row = ctx.services.credential_service.update(ctx.workspace_id, ctx.path_id(), changes)
    return json_response(credential_out(row))


@router.route("DELETE", "/v1/credentials/{id}", roles=ADMIN, summary="Delete a provider credential (and its key)")
def delete_credential(ctx: RequestContext) -> ApiResponse:
    credential_id = ctx.path_id()
    ctx.services.credential_service.delete(ctx.workspace_id, credential_id)
    return json_response({"id": str(credential_id), "deleted": True})


@router.route(
    "POST", "/v1/credentials/test", roles=ADMIN, summary="Test a credential before saving it", body=CredentialIn,
    response=CheckOut,
)  # fmt: skip
def test_new_credential(ctx: RequestContext) -> ApiResponse:
    target = ctx.services.credential_service.target_for_spec(ctx.body(CredentialIn).to_spec())
    return json_response(check_out(check_target(ctx.services.providers, target)))


@router.route("POST", "/v1/credentials/{id}/test", roles=ADMIN, summary="Test a saved credential", response=CheckOut)
def test_credential(ctx: RequestContext) -> ApiResponse:
    target = ctx.services.credential_service.target_for(ctx.workspace_id, ctx.path_id())
    return json_response(check_out(check_target(ctx.services.providers, target)))


@router.route(
    "POST", "/v1/credentials/{id}/rotate", roles=ADMIN, summary="Replace the key (old ciphertext destroyed)",
    body=RotateIn, response=CredentialOut,
)  # fmt: skip
def rotate_credential(ctx: RequestContext) -> ApiResponse:
    row = ctx.services.credential_service.rotate(ctx.workspace_id, ctx.path_id(), ctx.body(RotateIn).api_key)
    return json_response(credential_out(row))


@router.route(
    "GET",
    "/v1/credentials/{id}/health",
    roles=ADMIN,
    summary="Cooldown, failures and request rate of a credential, as every gateway instance sees them",
    response=CredentialHealthOut,
)
def credential_health(ctx: RequestContext) -> ApiResponse:
    status = ctx.services.credential_service.health(ctx.workspace_id, ctx.path_id())
    return json_response(CredentialHealthOut.model_validate(asdict(status)))


@router.route(
    "POST",
    "/v1/credentials/{id}/discover",
    roles=ADMIN,
    summary="Read a custom server's model list (GET {base_url}/models) and add its models to GET /v1/models",
    response=DiscoverOut,
)
def discover_models(ctx: RequestContext) -> ApiResponse:
    from tollgate.keys.discovery import list_models

    http = ctx.services.http_client.sync_client()  # a sync management route, served on a worker thread
    row = ctx.services.credential_service.discover(
        ctx.workspace_id, ctx.path_id(), lambda target: list_models(http, target)
    )
    models = list(row.models or [])
    return json_response(DiscoverOut(credential_id=row.id, models=models, count=len(models), free=row.free))
