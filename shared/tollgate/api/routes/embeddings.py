"""``POST /v1/embeddings`` (OpenAI's shape) on the `execute` function: the same citizen as a chat
completion (auth, budgets reserved from the input estimate, retries, failover, one usage row,
``x-tollgate-cost-usd``), priced at the model's input rate."""

from __future__ import annotations

from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse, json_response
from tollgate.api.router import MEMBER, Router
from tollgate.api.schemas.messages import EmbeddingsRequest
from tollgate.execution.attribution import attribution_from
from tollgate.execution.embeddings import EmbeddingsOperation
from tollgate.execution.service import ExecuteCall
from tollgate.providers.embeddings import normalize_input

router = Router("execute")


@router.route(
    "POST",
    "/v1/embeddings",
    roles=MEMBER,
    summary="OpenAI-compatible embeddings (OpenAI, Gemini, DeepSeek, OpenRouter, custom)",
    body=EmbeddingsRequest,
)
async def create_embeddings(ctx: RequestContext) -> ApiResponse:
    request = ctx.body(EmbeddingsRequest)
    operation = EmbeddingsOperation(
        normalize_input(request.input),
        dimensions=request.dimensions,
        encoding_format=request.encoding_format,
        user=request.user,
    )
    call = ExecuteCall(
        workspace_id=ctx.workspace_id,
        key_id=ctx.caller.key_id,
        request_id=ctx.request_id,
        body={"model": request.model},
        attribution=attribution_from(ctx.request.headers, request.metadata),
        operation=operation,
    )
    result = await ctx.services.execute.execute(call)
    return json_response(result.body, headers=result.headers)
