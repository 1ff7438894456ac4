"""Routes of the `budgets` function for alert channels: create, list, delete, test send."""

from __future__ import annotations

from functools import partial

from tollgate.alerts.events import channel_events
from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse, json_response
from tollgate.api.paging import id_page
from tollgate.api.router import ADMIN, Router
from tollgate.api.schemas.budgets import AlertChannelCreated, AlertChannelIn, AlertChannelOut, ChannelTestOut
from tollgate.api.schemas.common import PageQuery
from tollgate.db.models import AlertChannel

router = Router("budgets")


def channel_out(row: AlertChannel) -> AlertChannelOut:
    return AlertChannelOut(
        id=row.id,
        workspace_id=row.workspace_id,
        type=row.type,
        target=row.target,
        has_secret=row.type == "webhook" and row.secret_ciphertext is not None,
        events=channel_events(row),
        created_at=row.created_at,
        last_sent_at=row.last_sent_at,
        deleted_at=row.deleted_at,
    )


@router.route(
    "POST",
    "/v1/alert-channels",
    roles=ADMIN,
    summary="Create an alert channel (a generated webhook secret is returned once)",
    body=AlertChannelIn,
    response=AlertChannelCreated,
    status=201,
)
def create_channel(ctx: RequestContext) -> ApiResponse:
    body = ctx.body(AlertChannelIn)
    created = ctx.services.alert_channels.create(
        ctx.workspace_id, body.type, body.target, body.secret, events=tuple(body.events)
    )
    out = AlertChannelCreated(**channel_out(created.row).model_dump(), secret=created.secret)
    return json_response(out, status=201)


@router.route("GET", "/v1/alert-channels", roles=ADMIN, summary="List alert channels", query=PageQuery)
def list_channels(ctx: RequestContext) -> ApiResponse:
    return id_page(ctx, partial(ctx.services.alert_channels.list_page, ctx.workspace_id), channel_out)


@router.route(
    "DELETE", "/v1/alert-channels/{id}", roles=ADMIN, summary="Delete an alert channel", response=AlertChannelOut
)
def delete_channel(ctx: RequestContext) -> ApiResponse:
    return json_response(channel_out(ctx.services.alert_channels.delete(ctx.workspace_id, ctx.path_id())))


@router.route(
    "POST", "/v1/alert-channels/{id}/test", roles=ADMIN, summary="Send a test alert now", response=ChannelTestOut
)
def test_channel(ctx: RequestContext) -> ApiResponse:
    outcome = ctx.services.alert_channels.test(ctx.workspace_id, ctx.path_id())
    return json_response(ChannelTestOut(ok=outcome.ok, latency_ms=outcome.latency_ms, error=outcome.error))
