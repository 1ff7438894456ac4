"""``POST /v1/embeddings`` (OpenAI's shape) on the `execute` function: the same citizen as a chat
completion (auth, routing rules, guardrails on every input string, budgets reserved from the input
estimate, retries, failover, one usage row, ``x-tollgate-cost-usd``), priced at the model's input rate.

The normalized ``input`` list travels in ``ExecuteCall.body`` so the policy gate scans it like a
chat request's messages; what the gate forwards (redacted or not) is what the operation sends."""

from __future__ import annotations

from tollgate.api.context import RequestContext
from tollgate.api.deadlines import request_deadline
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
    inputs = normalize_input(request.input)
    operation = EmbeddingsOperation(
        inputs,
        dimensions=request.dimensions,
        encoding_format=request.encoding_format,
        user=request.user,
    )
    call = ExecuteCall(
        workspace_id=ctx.workspace_id,
        key_id=ctx.caller.key_id,
        request_id=ctx.request_id,
        received=ctx.request.received,
        body={"model": request.model, "input": inputs},
        attribution=attribution_from(ctx.request.headers, request.metadata),
        operation=operation,
        deadline=request_deadline(ctx.request, ctx.services.settings),
    )
    result = await ctx.services.execute.execute(call)
    return json_response(result.body, headers=result.headers)
