"""Routes of the `budgets` function: budgets, their status and history (alert channels next door)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse, json_response
from tollgate.api.paging import id_page
from tollgate.api.router import ADMIN, MEMBER, Router
from tollgate.api.schemas.budgets import (
    BudgetIn,
    BudgetOut,
    BudgetStatusOut,
    DaySpendOut,
    HistoryOut,
    HistoryQuery,
    StatusList,
)
from tollgate.api.schemas.common import PageQuery
from tollgate.budgets.service import BudgetStatus
from tollgate.db.models import Budget
from tollgate.fx_display import DisplayCurrency, display_fields

router = Router("budgets")


def budget_out(row: Budget) -> BudgetOut:
    return BudgetOut.model_validate(row, from_attributes=True)


def status_out(
    status: BudgetStatus, display: DisplayCurrency | None = None, now: datetime | None = None
) -> BudgetStatusOut:
    """A status in USD, plus the display currency at the rate effective ``now`` when the workspace has one."""
    amounts = {
        "limit_usd": status.budget.limit_usd,
        "spent_usd": status.spent_usd,
        "remaining_usd": status.remaining_usd,
    }
    shown = display_fields(display, amounts, now or status.period_start)
    return BudgetStatusOut(
        **shown,
        budget_id=status.budget.id,
        name=status.budget.name,
        action=status.budget.action.value,
        limit_usd=status.budget.limit_usd,
        spent_usd=status.spent_usd,
        reserved_usd=status.reserved_usd,
        remaining_usd=status.remaining_usd,
        period_start=status.period_start,
        period_end=status.period_end,
        thresholds_crossed=status.thresholds_crossed,
        thresholds_notified=status.thresholds_notified,
        thresholds_pending=status.thresholds_pending,
    )


@router.route(
    "POST", "/v1/budgets", roles=ADMIN, summary="Create a budget", body=BudgetIn, response=BudgetOut, status=201
)
def create_budget(ctx: RequestContext) -> ApiResponse:
    row = ctx.services.budget_service.create(ctx.workspace_id, ctx.body(BudgetIn).to_spec())
    return json_response(budget_out(row), status=201)


@router.route("GET", "/v1/budgets", roles=MEMBER, summary="List budgets", query=PageQuery)
def list_budgets(ctx: RequestContext) -> ApiResponse:
    return id_page(ctx, partial(ctx.services.budget_service.list_page, ctx.workspace_id), budget_out)


@router.route("GET", "/v1/budgets/status", roles=MEMBER, summary="Status of every budget", response=StatusList)
def status_all(ctx: RequestContext) -> ApiResponse:
    statuses = ctx.services.budget_service.status_all(ctx.workspace_id)
    display, now = ctx.services.fx.display_for(ctx.workspace_id), ctx.services.clock.now()
    return json_response(StatusList(data=[status_out(s, display, now) for s in statuses]))


@router.route("GET", "/v1/budgets/{id}", roles=MEMBER, summary="Get a budget", response=BudgetOut)
def get_budget(ctx: RequestContext) -> ApiResponse:
    return json_response(budget_out(ctx.services.budget_service.get(ctx.workspace_id, ctx.path_id())))


@router.route("PUT", "/v1/budgets/{id}", roles=ADMIN, summary="Replace a budget", body=BudgetIn, response=BudgetOut)
def replace_budget(ctx: RequestContext) -> ApiResponse:
    budget_id = ctx.path_id()
    row = ctx.services.budget_service.replace(ctx.workspace_id, budget_id, ctx.body(BudgetIn).to_spec())
    return json_response(budget_out(row))


@router.route("DELETE", "/v1/budgets/{id}", roles=ADMIN, summary="Delete a budget (soft)", response=BudgetOut)
def delete_budget(ctx: RequestContext) -> ApiResponse:
    return json_response(budget_out(ctx.services.budget_service.delete(ctx.workspace_id, ctx.path_id())))


@router.route(
    "POST", "/v1/budgets/{id}/reset", roles=ADMIN, summary="Zero the current period", response=BudgetStatusOut
)
def reset_budget(ctx: RequestContext) -> ApiResponse:
    status = ctx.services.budget_service.reset(ctx.workspace_id, ctx.path_id())
    return json_response(status_out(status, ctx.services.fx.display_for(ctx.workspace_id), ctx.services.clock.now()))


@router.route("GET", "/v1/budgets/{id}/status", roles=MEMBER, summary="Budget status", response=BudgetStatusOut)
def budget_status(ctx: RequestContext) -> ApiResponse:
    status = ctx.services.budget_service.status(ctx.workspace_id, ctx.path_id())
    return json_response(status_out(status, ctx.services.fx.display_for(ctx.workspace_id), ctx.services.clock.now()))


@router.route(
    "GET", "/v1/budgets/{id}/history", roles=MEMBER, summary="Spend per day", query=HistoryQuery, response=HistoryOut
)
def budget_history(ctx: RequestContext) -> ApiResponse:
    budget_id = ctx.path_id()
    days = ctx.services.budget_service.history(ctx.workspace_id, budget_id, ctx.query(HistoryQuery).days)
    out = HistoryOut(budget_id=budget_id, days=[DaySpendOut(date=d.day, spent_usd=d.spent_usd) for d in days])
    return json_response(out)
