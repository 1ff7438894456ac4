"""Routes of the `execute` function for routing rules, guardrails and security events (admin)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse, json_response
from tollgate.api.router import ADMIN, Router
from tollgate.api.schemas.common import PageQuery, decode_cursor, page
from tollgate.api.schemas.execute import ChatCompletionRequest
from tollgate.api.schemas.rules import (
    CandidateOut,
    DetectorOut,
    ExplainOut,
    GuardrailsIn,
    GuardrailsOut,
    MatchedRuleOut,
    RoutingRuleIn,
    RoutingRuleOut,
    SecurityEventOut,
)
from tollgate.db.models import RoutingRuleRow, SecurityEvent
from tollgate.errors import InvalidRequest
from tollgate.execution.attribution import attribution_from
from tollgate.guardrails.policy import GuardrailPolicy
from tollgate.money import format_usd
from tollgate.routing.planner import RoutedTarget, facts_of
from tollgate.routing.rules import ActionType

router = Router("execute")


def rule_out(row: RoutingRuleRow) -> RoutingRuleOut:
    return RoutingRuleOut.model_validate(row, from_attributes=True)


def _rule_cursor(cursor: str | None) -> tuple[int, uuid.UUID] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        priority, _, rule_id = raw.partition(":")
        return int(priority), uuid.UUID(rule_id)
    except ValueError:
        raise InvalidRequest("query.cursor: not a valid cursor", code="validation_error") from None


def _event_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        at, _, event_id = raw.partition("|")
        return datetime.fromisoformat(at), uuid.UUID(event_id)
    except ValueError:
        raise InvalidRequest("query.cursor: not a valid cursor", code="validation_error") from None


@router.route(
    "POST",
    "/v1/routing-rules",
    roles=ADMIN,
    summary="Create a routing rule",
    body=RoutingRuleIn,
    response=RoutingRuleOut,
    status=201,
)
def create_rule(ctx: RequestContext) -> ApiResponse:
    row = ctx.services.routing_rules.create(ctx.workspace_id, ctx.body(RoutingRuleIn).to_spec())
    return json_response(rule_out(row), status=201)


@router.route(
    "GET", "/v1/routing-rules", roles=ADMIN, summary="List routing rules in evaluation order", query=PageQuery
)
def list_rules(ctx: RequestContext) -> ApiResponse:
    query = ctx.query(PageQuery)
    rows = ctx.services.routing_rules.list_page(ctx.workspace_id, query.limit + 1, _rule_cursor(query.cursor))
    return json_response(page([rule_out(r) for r in rows], query.limit, lambda r: f"{r.priority}:{r.id}"))


@router.route(
    "POST",
    "/v1/routing-rules/explain",
    roles=ADMIN,
    summary="Which rule a chat request would match and its candidates (no provider is called)",
    body=ChatCompletionRequest,
    response=ExplainOut,
)
def explain(ctx: RequestContext) -> ApiResponse:
    request = ctx.body(ChatCompletionRequest)
    body = request.model_dump(mode="json", exclude_unset=True)
    attribution = attribution_from(ctx.request.headers, request.metadata)
    planner = ctx.services.routing_planner
    rule = planner.match(ctx.workspace_id, facts_of(body, attribution, ctx.caller.key_id))
    if rule is None:
        out = ExplainOut(
            matched_rule=None,
            action="default",
            blocked=False,
            candidates=[_candidate(planner.default_target(ctx.workspace_id, body))],
        )
        return json_response(out)
    matched = MatchedRuleOut(id=rule.id, name=rule.name, priority=rule.priority)
    if rule.action.type is ActionType.BLOCK:
        return json_response(
            ExplainOut(matched_rule=matched, action="block", blocked=True, message=rule.action.message, candidates=[])
        )
    targets = planner.targets(ctx.workspace_id, rule, body)
    out = ExplainOut(
        matched_rule=matched,
        action=rule.action.type.value,
        blocked=False,
        candidates=[_candidate(t) for t in targets],
    )
    return json_response(out)


def _price(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _candidate(target: RoutedTarget) -> CandidateOut:
    first = target.candidates[0] if target.candidates else None
    return CandidateOut(
        model=target.model,
        provider=first.provider if first else None,
        resolved_model=first.model if first else None,
        credential_ids=[str(c.target.credential_id) for c in target.candidates if c.target.credential_id],
        available=bool(target.candidates),
        error=target.error,
        input_per_1m=_price(target.price.input_per_1m) if target.price else None,
        output_per_1m=_price(target.price.output_per_1m) if target.price else None,
        estimated_cost_usd=format_usd(target.estimated_cost) if target.estimated_cost is not None else None,
    )


@router.route("GET", "/v1/routing-rules/{id}", roles=ADMIN, summary="Get a routing rule", response=RoutingRuleOut)
def get_rule(ctx: RequestContext) -> ApiResponse:
    return json_response(rule_out(ctx.services.routing_rules.get(ctx.workspace_id, ctx.path_id())))


@router.route(
    "PUT",
    "/v1/routing-rules/{id}",
    roles=ADMIN,
    summary="Replace a routing rule",
    body=RoutingRuleIn,
    response=RoutingRuleOut,
)
def replace_rule(ctx: RequestContext) -> ApiResponse:
    rule_id = ctx.path_id()
    row = ctx.services.routing_rules.replace(ctx.workspace_id, rule_id, ctx.body(RoutingRuleIn).to_spec())
    return json_response(rule_out(row))


@router.route("DELETE", "/v1/routing-rules/{id}", roles=ADMIN, summary="Delete a routing rule", response=RoutingRuleOut)
def delete_rule(ctx: RequestContext) -> ApiResponse:
    return json_response(rule_out(ctx.services.routing_rules.delete(ctx.workspace_id, ctx.path_id())))


def guardrails_out(policy: GuardrailPolicy) -> GuardrailsOut:
    return GuardrailsOut(
        detectors={name: DetectorOut(action=action) for name, action in policy.to_json_actions().items()},
        scan_responses=policy.scan_responses,
    )


@router.route("GET", "/v1/guardrails", roles=ADMIN, summary="Guardrail settings", response=GuardrailsOut)
def get_guardrails(ctx: RequestContext) -> ApiResponse:
    return json_response(guardrails_out(ctx.services.guardrails.get(ctx.workspace_id)))


@router.route(
    "PUT", "/v1/guardrails", roles=ADMIN, summary="Update guardrail settings", body=GuardrailsIn, response=GuardrailsOut
)
def put_guardrails(ctx: RequestContext) -> ApiResponse:
    service = ctx.services.guardrails
    policy = ctx.body(GuardrailsIn).applied_to(service.get(ctx.workspace_id))
    return json_response(guardrails_out(service.put(ctx.workspace_id, policy)))


def event_out(row: SecurityEvent) -> SecurityEventOut:
    return SecurityEventOut.model_validate(row, from_attributes=True)


@router.route(
    "GET", "/v1/security-events", roles=ADMIN, summary="Guardrail hits, newest first (no matched text)", query=PageQuery
)
def list_events(ctx: RequestContext) -> ApiResponse:
    query = ctx.query(PageQuery)
    rows = ctx.services.guardrails.events_page(ctx.workspace_id, query.limit + 1, _event_cursor(query.cursor))
    return json_response(
        page([event_out(r) for r in rows], query.limit, lambda e: f"{e.created_at.isoformat()}|{e.id}")
    )
