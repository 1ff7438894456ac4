"""Query and response shapes of the usage routes (docs/api.md, "Usage")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, ValidationInfo, field_validator

from tollgate.api.schemas.common import Strict
from tollgate.money import format_usd

Usd = Annotated[Decimal, PlainSerializer(format_usd, return_type=str, when_used="json")]
Status = Literal["success", "error", "cancelled", "refused"]
MAX_EXPORT_ROWS = 10_000_000


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


class UsageFilterQuery(Strict):
    """Filters shared by every usage route; naive timestamps are UTC and ``from`` < ``to``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    from_: datetime | None = Field(default=None, alias="from", description="inclusive, ISO 8601 (naive = UTC)")
    to: datetime | None = Field(default=None, description="exclusive, ISO 8601 (naive = UTC)")
    provider: str | None = Field(default=None, min_length=1, max_length=64)
    model: str | None = Field(default=None, min_length=1, max_length=255)
    workflow: str | None = Field(default=None, min_length=1, max_length=200)
    agent: str | None = Field(default=None, min_length=1, max_length=200)
    key_id: uuid.UUID | None = None

    @field_validator("from_", "to")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("to")
    @classmethod
    def _after_from(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("from_")
        if value is not None and start is not None and value <= start:
            raise ValueError("must be later than from")
        return value


class UsageListQuery(UsageFilterQuery):
    status: Status | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=512)


class SummaryQuery(UsageFilterQuery):
    group_by: Literal["provider", "model", "workflow", "agent", "key", "routing_rule", "day", "month"] | None = None
    tz: str = Field(default="UTC", max_length=64, description="IANA timezone for day/month grouping")

    @field_validator("tz")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value != "UTC" and value not in _zones():
            raise ValueError("unknown IANA timezone")
        return value


class ExportQuery(UsageFilterQuery):
    format: Literal["csv", "jsonl"] = "csv"
    status: Status | None = None
    limit: int | None = Field(default=None, ge=1, le=MAX_EXPORT_ROWS)
    cursor: str | None = Field(default=None, max_length=512)


class ExecutionsQuery(UsageFilterQuery):
    group_by: Literal["agent", "workflow"] = "agent"
    failures: int = Field(default=5, ge=0, le=50, description="recent failures listed per group")


class UsageRecordOut(BaseModel):
    id: uuid.UUID
    request_id: str
    key_id: uuid.UUID | None
    provider: str
    model: str
    requested_model: str
    status: str
    error_type: str | None
    workflow: str | None
    agent: str | None
    tags: list[str]
    input_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    output_tokens: int
    reasoning_tokens: int
    cost_usd: Usd
    price_id: uuid.UUID | None
    estimated: bool
    stream: bool
    fallback_from: str | None
    routing_rule_id: uuid.UUID | None = None
    latency_ms: int
    created_at: datetime
    display_currency: str | None = None
    cost_display: str | None = Field(default=None, description="cost_usd at the rate effective at created_at")


class UsagePage(BaseModel):
    data: list[UsageRecordOut]
    next_cursor: str | None


class SummaryOut(BaseModel):
    """Each group carries its group-by field by name (``provider``, ``model`` + ``provider``,
    ``workflow``, ``agent``, ``key_id``, ``day`` or ``month``) and the metrics."""

    group_by: str | None
    from_: datetime = Field(alias="from")
    to: datetime
    tz: str
    data: list[dict[str, Any]]
    totals: dict[str, Any]


class ExecutionsOut(BaseModel):
    group_by: str
    from_: datetime = Field(alias="from")
    to: datetime
    data: list[dict[str, Any]]
