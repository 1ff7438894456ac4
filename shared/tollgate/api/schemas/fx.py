"""Exchange rates for display currencies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

from tollgate.api.schemas.common import Strict


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


Rate = Annotated[Decimal, PlainSerializer(_plain, return_type=str)]


class FxRateIn(Strict):
    rate_per_usd: Decimal = Field(gt=0, le=Decimal("1000000000"), max_digits=24, decimal_places=9)


class FxRateOut(BaseModel):
    currency: str
    rate_per_usd: Rate = Field(description="units of the currency per 1 USD")
    source: str = Field(description="ecb (the feed) or manual (root)")
    effective_from: datetime


class FxStatusOut(BaseModel):
    last_success_at: datetime | None
    version: str | None = Field(description="the feed's publication date")
    stale: bool
    currencies: int
