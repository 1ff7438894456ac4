"""Pricing routes: reads (`usage` function), the manual override, refresh (`pricing_updater`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from tollgate.api.app import parse_body
from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse, json_response
from tollgate.api.router import ADMIN_OR_ROOT, ANY_KEY, MEMBER, ROOT, Router
from tollgate.api.schemas.common import decode_cursor, page
from tollgate.api.schemas.fx import FxStatusOut
from tollgate.api.schemas.pricing import (
    PROVIDER_PATTERN,
    EstimateIn,
    EstimateOut,
    PriceDetailOut,
    PriceIn,
    PriceOut,
    PricingListQuery,
    PricingStatusOut,
    RefreshIn,
    RefreshOut,
    RefreshQuery,
    SourceReportOut,
)
from tollgate.db.repositories.workspaces import WorkspaceRepository
from tollgate.errors import InvalidRequest, NotFound
from tollgate.money import format_usd
from tollgate.pricing.calculator import PriceRow
from tollgate.pricing.catalog import MANUAL, PriceCatalog
from tollgate.pricing.estimate import estimate_cost
from tollgate.pricing.unpriced import BLOCK_UNPRICED
from tollgate.providers.registry import PROVIDER_NAMES, unknown_provider_message

if TYPE_CHECKING:
    from tollgate.pricing.refresh import RefreshReport

router = Router("usage")
updater = Router("pricing_updater")
estimator = Router("execute")

_SEPARATOR = "\x1f"
_MAX_MODEL = 255


def _catalog(ctx: RequestContext) -> PriceCatalog:
    return PriceCatalog(ctx.services.sessions, ctx.services.clock, ctx.services.settings.pricing_stale_after_s)


def _path_model(ctx: RequestContext) -> tuple[str, str]:
    provider, model = ctx.path_params.get("provider", ""), ctx.path_params.get("model", "")
    if not re.fullmatch(PROVIDER_PATTERN, provider) or not model or len(model) > _MAX_MODEL:
        raise NotFound(f"No price is known for {provider}/{model}"[:300])
    return provider, model


def _after(cursor: str | None) -> tuple[str, str] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    provider, sep, model = raw.partition(_SEPARATOR)
    if not sep:
        raise InvalidRequest("query.cursor: not a valid cursor", code="validation_error")
    return provider, model


@router.route("GET", "/v1/pricing", roles=ANY_KEY, summary="Current prices (USD per 1M tokens)", query=PricingListQuery)
def list_prices(ctx: RequestContext) -> ApiResponse:
    query = ctx.query(PricingListQuery)
    rows = _catalog(ctx).current_page(query.limit + 1, query.provider, _after(query.cursor), ctx.caller.workspace_id)
    items = [PriceOut.from_row(row) for row in rows]
    return json_response(page(items, query.limit, lambda p: f"{p.provider}{_SEPARATOR}{p.model}"))


@router.route("GET", "/v1/pricing/status", roles=ANY_KEY, summary="Feed refresh status", response=PricingStatusOut)
def pricing_status(ctx: RequestContext) -> ApiResponse:
    view = _catalog(ctx).status()
    fx = ctx.services.fx.status()
    return json_response(
        PricingStatusOut(
            fx=FxStatusOut(
                last_success_at=fx.last_success_at, version=fx.version, stale=fx.stale, currencies=fx.currencies
            ),
            last_success_at=view.last_success_at,
            last_attempt_at=view.last_attempt_at,
            last_error=view.last_error,
            stale=view.stale,
            stale_after_s=view.stale_after_s,
            age_s=view.age_s,
            model_count=view.model_count,
            sources=view.source_versions,
        )
    )


@router.route(
    "GET",
    "/v1/pricing/{provider}/{model:path}",
    roles=ANY_KEY,
    summary="Current price and history",
    response=PriceDetailOut,
)
def price_detail(ctx: RequestContext) -> ApiResponse:
    provider, model = _path_model(ctx)
    history = _catalog(ctx).history(provider, model, ctx.caller.workspace_id)
    current = PriceOut.from_row(history.current) if history.current is not None else None
    out = PriceDetailOut(
        provider=provider, model=model, current=current, history=[PriceOut.from_row(v) for v in history.versions]
    )
    return json_response(out)


@router.route(
    "PUT",
    "/v1/pricing/{provider}/{model:path}",
    roles=ADMIN_OR_ROOT,
    summary="Set a manual price: root's is global, a workspace admin's applies to that workspace only",
    body=PriceIn,
    response=PriceOut,
)
def put_price(ctx: RequestContext) -> ApiResponse:
    provider, model = _path_model(ctx)
    if provider not in PROVIDER_NAMES:  # no call could ever use the price (custom models are custom/<model>)
        raise InvalidRequest(f"path.provider: {unknown_provider_message(provider)}", code="validation_error")
    body = ctx.body(PriceIn)
    price = PriceRow(id=None, provider=provider, model=model, source=MANUAL, **body.model_dump())
    row, _written = _catalog(ctx).set_manual(price, ctx.caller.workspace_id)
    ctx.services.prices.invalidate()
    return json_response(PriceOut.from_row(row))


@updater.route(
    "POST",
    "/v1/pricing/refresh",
    roles=ROOT,
    summary="Refresh prices from the feeds now (body optional: {force})",
    query=RefreshQuery,
    response=RefreshOut,
)
def refresh_prices(ctx: RequestContext) -> ApiResponse:
    raw = ctx.request.body
    body = cast(RefreshIn, parse_body(RefreshIn, raw)) if raw.strip() else RefreshIn()
    force = body.force or ctx.query(RefreshQuery).force
    report = ctx.services.pricing_refresher.refresh(force=force)
    return json_response(refresh_out(report))


def refresh_out(report: RefreshReport) -> RefreshOut:
    sources = [
        SourceReportOut(
            source=s.source,
            status=s.status,
            version=s.version,
            added=s.added,
            changed=s.changed,
            removed=s.removed,
            unchanged=s.unchanged,
            skipped=s.skipped,
            rows_written=s.rows_written,
            problems=s.problems,
        )
        for s in report.sources
    ]
    return RefreshOut(ok=report.ok, forced=report.forced, rows_written=report.rows_written, sources=sources)


@estimator.route(
    "POST",
    "/v1/cost/estimate",
    roles=MEMBER,
    summary="Estimate the cost range of a call",
    body=EstimateIn,
    response=EstimateOut,
)
def cost_estimate(ctx: RequestContext) -> ApiResponse:
    body = ctx.body(EstimateIn)
    with ctx.services.sessions() as session:
        workspace = WorkspaceRepository(session).get(ctx.workspace_id)
    policy = workspace.unpriced_policy if workspace is not None else BLOCK_UNPRICED
    prices = ctx.services.prices
    chat_body = body.model_dump(exclude_none=True, exclude={"model", "input_tokens"})
    estimate = estimate_cost(
        prices,
        prices.providers() | ctx.services.providers.names,
        body.model,
        body=chat_body,
        input_tokens=body.input_tokens,
        policy=policy,
        workspace_id=ctx.workspace_id,
    )
    out = EstimateOut(
        model=f"{estimate.provider}/{estimate.model}",
        provider=estimate.provider,
        input_tokens=estimate.input_tokens,
        max_output_tokens=estimate.max_output_tokens,
        tokenizer=estimate.tokenizer,
        min_cost_usd=format_usd(estimate.min_cost),
        max_cost_usd=format_usd(estimate.max_cost),
        estimated=estimate.estimated,
        price=PriceOut.from_row(estimate.price),
    )
    return json_response(out)
