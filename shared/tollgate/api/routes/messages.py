"""Anthropic's Messages API on the `execute` function: ``POST /v1/messages`` (``?beta=true``
accepted, as Claude Code sends it) and ``POST /v1/messages/count_tokens``.

Auth by ``x-api-key`` or ``Authorization: Bearer`` (a gateway key); ``anthropic-version`` and
``anthropic-beta`` are forwarded to Anthropic. Every error, including auth and validation, is in
Anthropic's shape (``tollgate.anthropic_api.errors``) with ``request-id`` and ``x-request-id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from tollgate.anthropic_api.errors import anthropic_error_body, anthropic_status_and_type
from tollgate.anthropic_api.native import NativeHeaders
from tollgate.anthropic_api.operation import MessagesOperation
from tollgate.anthropic_api.translate import to_openai
from tollgate.api.context import RequestContext
from tollgate.api.deadlines import request_deadline
from tollgate.api.http import ApiResponse, json_response, sse_response
from tollgate.api.router import MEMBER, Router
from tollgate.api.schemas.messages import AnthropicErrorBody, CountTokensOut, CountTokensRequest, MessagesRequest
from tollgate.errors import TollgateError
from tollgate.execution.attribution import attribution_from
from tollgate.execution.resolver import Candidate, ModelResolver, parse_model
from tollgate.execution.service import ExecuteCall
from tollgate.pricing.tokens import estimate_prompt_tokens
from tollgate.providers.base import ProviderTarget
from tollgate.providers.errors import FailureKind, ProviderCallError, to_gateway_error
from tollgate.providers.mock import count_text_tokens

router = Router("execute")


@runtime_checkable
class TokenCounter(Protocol):
    """An adapter that counts a Messages request's input natively (``AnthropicProvider``)."""

    async def count_tokens(
        self, target: ProviderTarget, model: str, body: Mapping[str, Any], headers: NativeHeaders
    ) -> int: ...


# Upstream count failures that mean "ask again later", answered by the estimator instead.
_COUNT_FALLBACK = frozenset(FailureKind) - {FailureKind.BAD_REQUEST, FailureKind.NOT_FOUND}


def anthropic_error(error: TollgateError, request_id: str) -> ApiResponse:
    status, _ = anthropic_status_and_type(error)
    headers = {"request-id": request_id, "x-request-id": request_id}
    if "retry-after" in error.headers:
        headers["retry-after"] = error.headers["retry-after"]
    return json_response(anthropic_error_body(error, request_id), status=status, headers=headers)


def _bare_claude(model: str) -> bool:
    return parse_model(model).provider is None and model.lower().startswith("claude")


def _resolve_as(ctx: RequestContext, model: str) -> str | None:
    """A bare ``claude-*`` id goes to the workspace's Anthropic credentials when it has any (Claude
    Code sends bare ids); otherwise it resolves like any bare id (the primary credential first)."""
    if not _bare_claude(model):
        return None
    if ctx.services.credentials.targets_for(ctx.workspace_id, "anthropic"):
        return f"anthropic/{model}"
    return None


@router.route(
    "POST",
    "/v1/messages",
    roles=MEMBER,
    summary="Anthropic Messages API (native to Anthropic, translated to other providers)",
    body=MessagesRequest,
    error_renderer=anthropic_error,
    error_body=AnthropicErrorBody,
)
async def create_message(ctx: RequestContext) -> ApiResponse:
    request = ctx.body(MessagesRequest).model_dump(mode="json", exclude_unset=True)
    translated = to_openai(request)
    resolve_as = None
    if _bare_claude(request["model"]):  # reads the workspace's credentials: on the blocking pool
        resolve_as = await ctx.services.blocking.run(_resolve_as, ctx, request["model"])
    body: dict[str, Any] = {**translated.body, "stream": bool(request.get("stream"))}
    call = ExecuteCall(
        workspace_id=ctx.workspace_id,
        key_id=ctx.caller.key_id,
        request_id=ctx.request_id,
        received=ctx.request.received,
        body=body,
        attribution=attribution_from(ctx.request.headers, None),
        operation=MessagesOperation(request, translated, NativeHeaders.from_request(ctx.request.headers)),
        resolve_as=resolve_as,
        deadline=request_deadline(ctx.request, ctx.services.settings),
    )
    result = await ctx.services.execute.execute(call)
    headers = {**result.headers, "request-id": ctx.request_id}
    if result.chunks is not None:
        return sse_response(result.chunks, headers=headers)
    return json_response(result.body, headers=headers)


@router.route(
    "POST",
    "/v1/messages/count_tokens",
    roles=MEMBER,
    summary="Count a Messages request's input tokens (Anthropic's count when it serves the model)",
    body=CountTokensRequest,
    response=CountTokensOut,
    error_renderer=anthropic_error,
    error_body=AnthropicErrorBody,
)
async def count_tokens(ctx: RequestContext) -> ApiResponse:
    """Anthropic's ``count_tokens`` when the model resolves to an Anthropic credential that answers;
    else (another provider, or Anthropic unreachable/limited) the gateway's estimator. The source is
    in ``x-tollgate-token-count`` (``anthropic`` | ``estimate``). Counting is free: no usage row."""
    request = ctx.body(CountTokensRequest).model_dump(mode="json", exclude_unset=True)
    services = ctx.services
    candidate = await services.blocking.run(_first_candidate, ctx, request["model"])
    client = services.providers.get(candidate.provider)
    if candidate.provider == "anthropic" and isinstance(client, TokenCounter):
        try:
            tokens = await client.count_tokens(
                candidate.target, candidate.model, request, NativeHeaders.from_request(ctx.request.headers)
            )
            return _counted(tokens, "anthropic")
        except ProviderCallError as exc:
            if exc.kind not in _COUNT_FALLBACK:
                raise _as_error(exc) from None
    translated = to_openai({**request, "max_tokens": 1})
    estimate = estimate_prompt_tokens(candidate.provider, candidate.model, translated.body)
    estimate += sum(count_text_tokens(str(tool)) for tool in request.get("tools") or ())
    return _counted(estimate, "estimate")


def _first_candidate(ctx: RequestContext, model: str) -> Candidate:
    """The candidate a Messages call for ``model`` would try first (database reads: run on the pool)."""
    services = ctx.services
    resolver = ModelResolver(services.credentials, services.providers.names, services.settings.model_equivalents)
    return resolver.resolve(ctx.workspace_id, _resolve_as(ctx, model) or model)[0]


def _counted(tokens: int, source: str) -> ApiResponse:
    return json_response(CountTokensOut(input_tokens=tokens), headers={"x-tollgate-token-count": source})


def _as_error(exc: ProviderCallError) -> TollgateError:
    return to_gateway_error(exc)
