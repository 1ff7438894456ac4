"""Budgets and alert channels: request and response shapes (docs/api.md, "Budgets and alert channels")."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field, PlainSerializer, field_validator, model_validator

from tollgate.api.schemas.common import Strict
from tollgate.budgets.periods import Period, zone_of
from tollgate.budgets.spec import DEFAULT_THRESHOLDS, Action, BudgetSpec, Scope
from tollgate.money import format_usd

Usd = Annotated[Decimal, PlainSerializer(format_usd, return_type=str)]
Fraction = Annotated[Decimal, PlainSerializer(float, return_type=float)]
# The same range on PostgreSQL and SQLite: SQLite stores money as 64-bit integers of 1e-12 USD
# (at most ~9.22M USD), and a period's spend plus reservations must fit beside the limit.
MAX_LIMIT_USD = Decimal("1000000")


class BudgetIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    scope: Scope
    scope_value: str | None = Field(default=None, min_length=1, max_length=255)
    period: Period
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    limit_usd: Decimal = Field(gt=0, le=MAX_LIMIT_USD, max_digits=22, decimal_places=12)
    thresholds: list[Decimal] = Field(default_factory=lambda: list(DEFAULT_THRESHOLDS), min_length=1, max_length=10)
    action: Action = Action.ALERT_ONLY
    downgrade_model: str | None = Field(default=None, min_length=1, max_length=255)
    channel_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_of(value)
        return value

    @field_validator("thresholds")
    @classmethod
    def _fractions(cls, value: list[Decimal]) -> list[Decimal]:
        if any(not (Decimal(0) < t <= Decimal(10)) for t in value):
            raise ValueError("each threshold is a fraction of the limit in (0, 10], e.g. 0.75")
        if any(t != t.quantize(Decimal("0.0001")) for t in value):
            raise ValueError("thresholds have at most 4 decimal places")
        return sorted(set(value))

    @model_validator(mode="after")
    def _consistent(self) -> BudgetIn:
        if len(set(self.channel_ids)) != len(self.channel_ids):
            raise ValueError("channel_ids must not repeat")
        return self

    def to_spec(self) -> BudgetSpec:
        return BudgetSpec(
            name=self.name,
            scope=self.scope,
            scope_value=self.scope_value,
            period=self.period,
            timezone=self.timezone,
            limit_usd=self.limit_usd,
            thresholds=tuple(self.thresholds),
            action=self.action,
            downgrade_model=self.downgrade_model,
            channel_ids=tuple(self.channel_ids),
        )


class BudgetOut(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    scope: str
    scope_value: str | None
    period: str
    timezone: str
    limit_usd: Usd
    thresholds: list[float]
    action: str
    downgrade_model: str | None
    channel_ids: list[uuid.UUID]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class BudgetStatusOut(BaseModel):
    budget_id: uuid.UUID
    name: str
    action: str
    limit_usd: Usd
    spent_usd: Usd
    reserved_usd: Usd
    remaining_usd: Usd
    period_start: datetime
    period_end: datetime | None
    thresholds_crossed: list[Fraction]
    # Of the crossed thresholds: those whose alert reached a channel, and those still to be delivered
    # (held by a channel cooldown or being retried). A budget without channels notifies nothing.
    thresholds_notified: list[Fraction]
    thresholds_pending: list[Fraction]
    display_currency: str | None = Field(default=None, description="the workspace's display currency, if any")
    limit_display: str | None = None
    spent_display: str | None = None
    remaining_display: str | None = None


class StatusList(BaseModel):
    """Every budget's status in one call: the list shape with ``next_cursor`` always null (one page)."""

    data: list[BudgetStatusOut]
    next_cursor: None = None


class HistoryQuery(Strict):
    days: int = Field(default=30, ge=1, le=365)


class DaySpendOut(BaseModel):
    date: date
    spent_usd: Usd


class HistoryOut(BaseModel):
    budget_id: uuid.UUID
    days: list[DaySpendOut]


EventGroup = Literal["budget", "provider", "guardrail", "pricing"]


class AlertChannelIn(Strict):
    type: Literal["webhook", "slack", "discord", "email"]
    target: str = Field(min_length=3, max_length=1000)
    secret: str | None = Field(default=None, min_length=16, max_length=256)
    events: list[EventGroup] = Field(
        default=["budget"],
        min_length=1,
        max_length=4,
        description="event groups this channel gets: budget (default), provider, guardrail, pricing",
    )

    @field_validator("events")
    @classmethod
    def _unique_events(cls, value: list[EventGroup]) -> list[EventGroup]:
        return list(dict.fromkeys(value))


class AlertChannelOut(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    type: str
    target: str
    has_secret: bool
    events: list[str] = Field(default_factory=lambda: ["budget"])
    created_at: datetime
    last_sent_at: datetime | None
    deleted_at: datetime | None = None


class AlertChannelCreated(AlertChannelOut):
    secret: str | None = Field(default=None, description="generated webhook signing secret, shown only once")


class ChannelTestOut(BaseModel):
    ok: bool
    latency_ms: int
    error: str | None = None
