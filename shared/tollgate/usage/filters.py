"""What a usage query selects: one workspace, an optional time range and dimension filters."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from tollgate.errors import PermissionDenied
from tollgate.keys.auth import Principal

STATUSES = ("success", "error", "cancelled", "refused")


@dataclass(frozen=True)
class UsageFilter:
    workspace_id: uuid.UUID
    start: datetime | None = None  # inclusive, aware UTC
    end: datetime | None = None  # exclusive, aware UTC
    provider: str | None = None
    model: str | None = None
    workflow: str | None = None
    agent: str | None = None
    key_id: uuid.UUID | None = None
    status: str | None = None

    def within(self, start: datetime, end: datetime) -> UsageFilter:
        return replace(self, start=start, end=end)


def scoped_to_caller(usage_filter: UsageFilter, principal: Principal) -> UsageFilter:
    """Members read only their own key's usage; admins the whole workspace.

    Raises ``PermissionDenied`` when a member asks for another key's usage."""
    if principal.role != "member":
        return usage_filter
    if usage_filter.key_id is not None and usage_filter.key_id != principal.key_id:
        raise PermissionDenied("A member key can only read its own usage (key_id must be your key)")
    return replace(usage_filter, key_id=principal.key_id)


def day_start(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date(), time(), tzinfo=UTC)


@dataclass(frozen=True)
class SplitRange:
    """A range cut into whole UTC days (served by the rollup) and partial days (raw rows)."""

    first_day: date | None  # whole days [first_day, end_day) from usage_daily
    end_day: date | None
    partial: tuple[tuple[datetime, datetime], ...]  # each inside one UTC day


def split_range(start: datetime, end: datetime) -> SplitRange:
    first_full = day_start(start) if day_start(start) == start else day_start(start) + timedelta(days=1)
    last_full = day_start(end)
    if first_full >= last_full:  # no whole day inside: at most two partial pieces
        if first_full > end:  # same UTC day
            return SplitRange(None, None, ((start, end),) if start < end else ())
        pieces = tuple(p for p in ((start, first_full), (first_full, end)) if p[0] < p[1])
        return SplitRange(None, None, pieces)
    pieces = tuple(p for p in ((start, first_full), (last_full, end)) if p[0] < p[1])
    return SplitRange(first_full.date(), last_full.date(), pieces)
