"""Routes of the `execute` function: chat completions and the model list."""

from __future__ import annotations

from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse, json_response, sse_response
from tollgate.api.router import MEMBER, Router
from tollgate.api.schemas.execute import ChatCompletionRequest
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
def chat_completions(ctx: RequestContext) -> ApiResponse:
    request = ctx.body(ChatCompletionRequest)
    body = request.model_dump(mode="json", exclude_unset=True)
    call = ExecuteCall(
        workspace_id=ctx.workspace_id,
        key_id=ctx.caller.key_id,
        request_id=ctx.request_id,
        body=body,
        attribution=attribution_from(ctx.request.headers, request.metadata),
    )
    result = ctx.services.execute.execute(call)
    if result.chunks is not None:
        return sse_response(result.chunks, headers=result.headers)
    return json_response(result.body, headers=result.headers)
