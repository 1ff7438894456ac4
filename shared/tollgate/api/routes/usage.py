"""Routes of the `usage` function: records, summaries, exports, execution statistics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse, json_response
from tollgate.api.router import MEMBER, Router
from tollgate.api.schemas.common import decode_cursor, encode_cursor
from tollgate.api.schemas.usage import (
    ExecutionsOut,
    ExecutionsQuery,
    ExportQuery,
    SummaryOut,
    SummaryQuery,
    UsageFilterQuery,
    UsageListQuery,
    UsagePage,
    UsageRecordOut,
)
from tollgate.db.repositories.usage_queries import Cursor
from tollgate.errors import InvalidRequest
from tollgate.fx_display import DisplayCurrency, display_fields
from tollgate.ids import parse_uuid
from tollgate.usage.executions import ExecutionsRequest
from tollgate.usage.export import CONTENT_TYPES, ExportRequest
from tollgate.usage.filters import UsageFilter, scoped_to_caller
from tollgate.usage.summary import SummaryRequest

router = Router("usage")
DEFAULT_WINDOW = timedelta(days=30)


def encode_usage_cursor(cursor: Cursor) -> str:
    at, row_id = cursor
    return encode_cursor(f"{at.isoformat()}|{row_id}")


def decode_usage_cursor(raw: str | None) -> Cursor | None:
    """The (created_at, id) position a usage cursor encodes.
    Raises ``InvalidRequest`` for a cursor that is not one of ours."""
    text = decode_cursor(raw)
    if text is None:
        return None
    at_text, _, id_text = text.partition("|")
    row_id = parse_uuid(id_text)
    try:
        at = datetime.fromisoformat(at_text)
    except ValueError:
        at = None
    if row_id is None or at is None or at.tzinfo is None:
        raise InvalidRequest("query.cursor: not a valid cursor", code="validation_error")
    return at, row_id


def record_out(row: Any, display: DisplayCurrency | None) -> UsageRecordOut:
    """A usage record; with a display currency, its cost at the rate effective when the call was made."""
    out = UsageRecordOut.model_validate(row, from_attributes=True)
    if display is not None:
        out.display_currency = display.currency
        out.cost_display = display.text(row.cost_usd, row.created_at)
    return out


def _filter(ctx: RequestContext, query: UsageFilterQuery, *, status: str | None = None) -> UsageFilter:
    base = UsageFilter(
        workspace_id=ctx.workspace_id,
        start=query.from_,
        end=query.to,
        provider=query.provider,
        model=query.model,
        workflow=query.workflow,
        agent=query.agent,
        key_id=query.key_id,
        status=status,
    )
    return scoped_to_caller(base, ctx.caller)


def _closed_range(ctx: RequestContext, query: UsageFilterQuery) -> UsageFilter:
    """Summaries need a closed range: ``to`` defaults to now, ``from`` to 30 days before ``to``."""
    usage_filter = _filter(ctx, query)
    end = usage_filter.end or ctx.services.clock.now()
    start = usage_filter.start or end - DEFAULT_WINDOW
    if start >= end:
        raise InvalidRequest("query.from: must be earlier than to (which defaults to now)", code="validation_error")
    return usage_filter.within(start, end)


@router.route(
    "GET", "/v1/usage", roles=MEMBER, summary="Usage records, newest first", query=UsageListQuery, response=UsagePage
)
def list_usage(ctx: RequestContext) -> ApiResponse:
    query = ctx.query(UsageListQuery)
    usage_filter = _filter(ctx, query, status=query.status)
    rows = ctx.services.usage.page(usage_filter, query.limit + 1, decode_usage_cursor(query.cursor))
    display = ctx.services.fx.display_for(ctx.workspace_id)
    items = [record_out(row, display) for row in rows[: query.limit]]
    last = rows[query.limit - 1] if len(rows) > query.limit else None
    next_cursor = encode_usage_cursor((last.created_at, last.id)) if last is not None else None
    return json_response(UsagePage(data=items, next_cursor=next_cursor))


@router.route(
    "GET",
    "/v1/usage/summary",
    roles=MEMBER,
    summary="Requests, success rate, tokens, cost and p50/p95 latency per group",
    query=SummaryQuery,
    response=SummaryOut,
)
def usage_summary(ctx: RequestContext) -> ApiResponse:
    query = ctx.query(SummaryQuery)
    usage_filter = _closed_range(ctx, query)
    summary = ctx.services.usage.summary(SummaryRequest(usage_filter, query.group_by, query.tz))
    display, now = ctx.services.fx.display_for(ctx.workspace_id), ctx.services.clock.now()

    def shown(metrics: dict[str, Any]) -> dict[str, Any]:
        return {**metrics, **display_fields(display, {"cost_usd": metrics["cost_usd"]}, now)}

    return json_response(
        {
            "group_by": query.group_by,
            "from": usage_filter.start,
            "to": usage_filter.end,
            "tz": query.tz,
            "data": [shown(row) for row in summary.rows()],
            "totals": shown(summary.totals.metrics()),
        }
    )


@router.route(
    "GET",
    "/v1/usage/executions",
    roles=MEMBER,
    summary="Execution statistics per agent or workflow, with recent failures",
    query=ExecutionsQuery,
    response=ExecutionsOut,
)
def usage_executions(ctx: RequestContext) -> ApiResponse:
    query = ctx.query(ExecutionsQuery)
    usage_filter = _closed_range(ctx, query)
    data = ctx.services.usage.executions(ExecutionsRequest(usage_filter, query.group_by, query.failures))
    return json_response({"group_by": query.group_by, "from": usage_filter.start, "to": usage_filter.end, "data": data})


@router.route(
    "GET", "/v1/usage/export", roles=MEMBER, summary="Stream usage records as CSV or JSON Lines", query=ExportQuery
)
def export_usage(ctx: RequestContext) -> ApiResponse:
    query = ctx.query(ExportQuery)
    request = ExportRequest(
        filter=_filter(ctx, query, status=query.status),
        format=query.format,
        cursor=decode_usage_cursor(query.cursor),
        limit=query.limit,
        max_bytes=ctx.services.settings.usage_export_cap(),
        display=ctx.services.fx.display_for(ctx.workspace_id),
    )
    extension = "csv" if query.format == "csv" else "jsonl"
    response = ApiResponse(
        status=200,
        content_type=CONTENT_TYPES[query.format],
        headers={"content-disposition": f'attachment; filename="usage.{extension}"'},
    )

    def truncated(cursor: Cursor) -> None:
        # Only a buffering adapter (Lambda) still sends these: headers are read after the body.
        response.headers["x-tollgate-export-truncated"] = "true"
        response.headers["x-tollgate-next-cursor"] = encode_usage_cursor(cursor)

    response.stream = ctx.services.usage.export(request, on_truncated=truncated)
    return response
