"""Routes of the `execute` function: chat completions (async, on the event loop) and the model list."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tollgate.api.context import RequestContext
from tollgate.api.deadlines import request_deadline
from tollgate.api.http import ApiResponse, json_response, sse_response
from tollgate.api.router import MEMBER, Router
from tollgate.api.schemas.execute import ChatCompletionRequest, ModelOut
from tollgate.execution.attribution import attribution_from
from tollgate.execution.service import ExecuteCall

router = Router("execute")


@router.route(
    "POST",
    "/v1/chat/completions",
    roles=MEMBER,
    summary="OpenAI-compatible chat completion",
    body=ChatCompletionRequest,
)
async def chat_completions(ctx: RequestContext) -> ApiResponse:
    request = ctx.body(ChatCompletionRequest)
    body = request.model_dump(mode="json", exclude_unset=True)
    call = ExecuteCall(
        workspace_id=ctx.workspace_id,
        key_id=ctx.caller.key_id,
        request_id=ctx.request_id,
        received=ctx.request.received,
        body=body,
        attribution=attribution_from(ctx.request.headers, request.metadata, body.get("user")),
        deadline=request_deadline(ctx.request, ctx.services.settings),
    )
    result = await ctx.services.execute.execute(call)
    if result.chunks is not None:
        return sse_response(result.chunks, headers=result.headers)
    return json_response(result.body, headers=result.headers)


@router.route("GET", "/v1/models", roles=MEMBER, summary="Models this workspace can call, with prices")
def list_models(ctx: RequestContext) -> ApiResponse:
    from tollgate.execution.catalog import ModelCatalog

    def price(value: Decimal | None) -> str | None:
        return None if value is None else format(value.normalize(), "f")

    entries = ModelCatalog(ctx.services.sessions).list(ctx.workspace_id)
    data = [
        ModelOut(
            id=entry.id,
            owned_by=entry.owned_by,
            input_per_1m=price(entry.input_per_1m),
            output_per_1m=price(entry.output_per_1m),
            price_source=entry.price_source,
        ).model_dump(mode="json")
        for entry in entries
    ]
    if ctx.request.header("anthropic-version"):  # Anthropic's SDK / Claude Code listing models
        return json_response(anthropic_model_list(data))
    return json_response({"object": "list", "data": data, "next_cursor": None})  # one page: every model


def anthropic_model_list(data: list[dict[str, Any]]) -> dict[str, Any]:
    """The same list with the fields Anthropic's ``ModelInfo`` requires (epoch ``created_at``: the
    release date is unknown to the gateway) and its page fields; the OpenAI fields stay."""
    models = [
        {
            **entry,
            "type": "model",
            "display_name": entry["id"],
            "created_at": "1970-01-01T00:00:00Z",
            "lifecycle": "active",
        }
        for entry in data
    ]
    first, last = (models[0]["id"], models[-1]["id"]) if models else (None, None)
    return {"object": "list", "data": models, "has_more": False, "first_id": first, "last_id": last}
