"""Routes of the `usage` function for exchange rates: read (any key), set by hand (root)."""

from __future__ import annotations

import re

from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse, json_response
from tollgate.api.router import ANY_KEY, ROOT, Router
from tollgate.api.schemas.common import PageQuery, decode_cursor, page
from tollgate.api.schemas.fx import FxRateIn, FxRateOut, FxStatusOut
from tollgate.currencies import normalize_currency
from tollgate.db.models import FxRate
from tollgate.errors import InvalidRequest

router = Router("usage")
_CODE = re.compile(r"[A-Z]{3}")


def rate_out(row: FxRate) -> FxRateOut:
    return FxRateOut(
        currency=row.currency, rate_per_usd=row.rate_per_usd, source=row.source, effective_from=row.effective_from
    )


@router.route("GET", "/v1/fx-rates", roles=ANY_KEY, summary="Current exchange rates (units per 1 USD)", query=PageQuery)
def list_rates(ctx: RequestContext) -> ApiResponse:
    """``{data, next_cursor, status}``: current rates by currency code, ``?limit=&cursor=`` like every
    list (the cursor encodes the last code of the previous page). Raises ``InvalidRequest`` for a bad
    ``limit`` or ``cursor``."""
    query = ctx.query(PageQuery)
    after = decode_cursor(query.cursor)
    if after is not None and not _CODE.fullmatch(after):
        raise InvalidRequest("query.cursor: not a valid cursor", code="validation_error")
    fx = ctx.services.fx
    status = fx.status()
    rows = [rate_out(r) for r in fx.current() if after is None or r.currency > after]
    return json_response(
        {
            **page(rows[: query.limit + 1], query.limit, lambda rate: rate.currency),
            "status": FxStatusOut(
                last_success_at=status.last_success_at,
                version=status.version,
                stale=status.stale,
                currencies=status.currencies,
            ),
        }
    )


@router.route(
    "PUT",
    "/v1/fx-rates/{currency}",
    roles=ROOT,
    summary="Set a currency's rate per USD by hand (versioned; not guarded)",
    body=FxRateIn,
    response=FxRateOut,
)
def put_rate(ctx: RequestContext) -> ApiResponse:
    try:
        currency = normalize_currency(ctx.path_params.get("currency", ""))
    except ValueError as exc:
        raise InvalidRequest(f"path.currency: {exc}", code="validation_error") from None
    if currency == "USD":
        raise InvalidRequest("path.currency: USD is the base currency (always 1)", code="validation_error")
    row = ctx.services.fx.set_manual(currency, ctx.body(FxRateIn).rate_per_usd)
    return json_response(rate_out(row))
