"""Prices, pricing status, refresh and cost estimates."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from tollgate.api.schemas.common import PageQuery, Strict
from tollgate.api.schemas.execute import ChatMessage
from tollgate.api.schemas.fx import FxStatusOut
from tollgate.db.models import ModelPrice
from tollgate.money import format_usd
from tollgate.pricing.calculator import PriceRow

PROVIDER_PATTERN = r"^[a-z0-9][a-z0-9_.:-]{0,63}$"
MAX_RATE = Decimal(50_000)
Rate = Annotated[Decimal, Field(ge=0, le=MAX_RATE, max_digits=24, decimal_places=9, allow_inf_nan=False)]


def rate_text(value: Decimal | None) -> str | None:
    return None if value is None else format_usd(value)


class PricingListQuery(PageQuery):
    provider: str | None = Field(default=None, pattern=PROVIDER_PATTERN)


class PriceOut(BaseModel):
    id: uuid.UUID
    provider: str
    model: str
    source: str
    input_per_1m: str
    output_per_1m: str
    cache_read_per_1m: str | None
    cache_write_per_1m: str | None
    cache_write_1h_per_1m: str | None
    reasoning_per_1m: str | None
    tier_threshold_tokens: int | None
    input_above_tier_per_1m: str | None
    output_above_tier_per_1m: str | None
    cache_read_above_tier_per_1m: str | None
    cache_write_above_tier_per_1m: str | None
    max_input_tokens: int | None
    max_output_tokens: int | None
    effective_from: datetime
    effective_to: datetime | None

    @classmethod
    def from_row(cls, row: ModelPrice | PriceRow) -> PriceOut:
        rates = {name: rate_text(getattr(row, name)) for name in cls.model_fields if name.endswith("_per_1m")}
        plain = {name: getattr(row, name, None) for name in cls.model_fields if not name.endswith("_per_1m")}
        return cls(**plain, **rates)


class PriceDetailOut(BaseModel):
    provider: str
    model: str
    current: PriceOut | None
    history: list[PriceOut]


class PriceIn(Strict):
    """A manual price in USD per 1M tokens; omitted classes fall back (cache → input, reasoning → output)."""

    input_per_1m: Rate
    output_per_1m: Rate
    cache_read_per_1m: Rate | None = None
    cache_write_per_1m: Rate | None = None
    cache_write_1h_per_1m: Rate | None = None
    reasoning_per_1m: Rate | None = None
    tier_threshold_tokens: int | None = Field(default=None, ge=1, le=100_000_000)
    input_above_tier_per_1m: Rate | None = None
    output_above_tier_per_1m: Rate | None = None
    cache_read_above_tier_per_1m: Rate | None = None
    cache_write_above_tier_per_1m: Rate | None = None
    max_output_tokens: int | None = Field(default=None, ge=1, le=100_000_000)
    max_input_tokens: int | None = Field(default=None, ge=1, le=100_000_000)

    @model_validator(mode="after")
    def _tier_is_complete(self) -> PriceIn:
        tiered = any(getattr(self, n) is not None for n in ("input_above_tier_per_1m", "output_above_tier_per_1m"))
        if tiered and self.tier_threshold_tokens is None:
            raise ValueError("tier_threshold_tokens is required with *_above_tier_per_1m prices")
        return self


class PricingStatusOut(BaseModel):
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    stale: bool
    stale_after_s: int
    age_s: int | None
    model_count: int
    sources: dict[str, Any]
    fx: FxStatusOut | None = Field(default=None, description="exchange-rate feed: last success, version, stale")


class RefreshIn(Strict):
    force: bool = Field(default=False, description="apply a feed even if it drops >20% of models or moves a price >10x")


class RefreshQuery(Strict):
    force: bool = False


class SourceReportOut(BaseModel):
    source: str
    status: str
    version: str | None
    added: int
    changed: int
    removed: int
    unchanged: int
    skipped: int
    rows_written: int
    problems: list[str]


class RefreshOut(BaseModel):
    ok: bool
    forced: bool
    rows_written: int
    sources: list[SourceReportOut]


class EstimateIn(Strict):
    model: str = Field(min_length=1, max_length=300)
    messages: list[ChatMessage] | None = Field(default=None, min_length=1, max_length=10_000)
    input_tokens: int | None = Field(default=None, ge=0, le=100_000_000)
    max_tokens: int | None = Field(default=None, ge=1, le=10_000_000)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=10_000_000)
    # Everything else a chat body sends upstream and the reservation counts.
    tools: list[dict[str, Any]] | None = Field(default=None, max_length=1_000)
    functions: list[dict[str, Any]] | None = Field(default=None, max_length=1_000)
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    prediction: dict[str, Any] | None = None
    n: int | None = Field(default=None, ge=1, le=128)

    @model_validator(mode="after")
    def _one_prompt(self) -> EstimateIn:
        if (self.messages is None) == (self.input_tokens is None):
            raise ValueError("give exactly one of messages or input_tokens")
        return self


class EstimateOut(BaseModel):
    model: str
    provider: str
    input_tokens: int
    max_output_tokens: int
    tokenizer: str
    min_cost_usd: str
    max_cost_usd: str
    estimated: bool
    price: PriceOut
