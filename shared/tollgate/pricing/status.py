"""The ``pricing_status`` singleton: last attempt/success, errors, source versions, staleness."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tollgate.clock import ensure_utc
from tollgate.db.models import ModelPrice, PricingStatus

STATUS_ID = 1


class SourceOutcome(Protocol):
    """What the status row records of one source's refresh (``pricing.refresh.SourceReport``)."""

    @property
    def source(self) -> str: ...
    @property
    def status(self) -> str: ...  # applied | rejected | failed
    @property
    def version(self) -> str | None: ...
    @property
    def models(self) -> int: ...
    @property
    def rows_written(self) -> int: ...
    @property
    def problems(self) -> list[str]: ...


def lock_status(session: Session) -> PricingStatus:
    """The status row, locked for this transaction (serializes concurrent refreshes on PostgreSQL;
    SQLite transactions already start with BEGIN IMMEDIATE)."""
    row = session.scalars(select(PricingStatus).where(PricingStatus.id == STATUS_ID).with_for_update()).first()
    if row is None:
        row = PricingStatus(id=STATUS_ID, source_versions={}, model_count=0, rows_written=0)
        session.add(row)
        session.flush()
    return row


def count_priced_models(session: Session) -> int:
    current = (
        select(ModelPrice.provider, ModelPrice.model).where(ModelPrice.effective_to.is_(None)).distinct().subquery()
    )
    return int(session.scalar(select(func.count()).select_from(current)) or 0)


def record_attempt(session: Session, row: PricingStatus, reports: Sequence[SourceOutcome], now: datetime) -> None:
    versions: dict[str, Any] = dict(row.source_versions or {})
    errors: list[str] = []
    for report in reports:
        entry = dict(versions.get(report.source) or {})
        entry["last_attempt_at"] = now.isoformat()
        entry["status"] = report.status
        if report.status == "applied":
            entry.update(version=report.version, last_success_at=now.isoformat(), models=report.models, error=None)
        else:
            entry["error"] = "; ".join(report.problems)
            errors.append(f"{report.source}: {entry['error']}")
        versions[report.source] = entry
    session.flush()
    row.source_versions = versions
    row.last_attempt_at = now
    row.rows_written = sum(r.rows_written for r in reports)
    row.model_count = count_priced_models(session)
    if errors:
        row.last_error = " | ".join(errors)[:4000]
    else:
        row.last_error = None
        row.last_success_at = now


def record_seed(session: Session, source: str, version: str, models: int, now: datetime) -> None:
    row = lock_status(session)
    versions = dict(row.source_versions or {})
    versions[source] = {"version": version, "seeded_at": now.isoformat(), "models": models, "status": "seeded"}
    row.source_versions = versions
    row.model_count = count_priced_models(session)


@dataclass(frozen=True)
class PricingStatusView:
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    source_versions: dict[str, Any]
    model_count: int
    stale: bool
    stale_after_s: int
    age_s: int | None


def read_status(session: Session, now: datetime, stale_after_s: int) -> PricingStatusView:
    """Prices are stale when no refresh has succeeded within ``stale_after_s`` (or ever)."""
    row = session.get(PricingStatus, STATUS_ID)
    last_success = ensure_utc(row.last_success_at) if row and row.last_success_at else None
    age = int((now - last_success).total_seconds()) if last_success else None
    return PricingStatusView(
        last_success_at=last_success,
        last_attempt_at=ensure_utc(row.last_attempt_at) if row and row.last_attempt_at else None,
        last_error=row.last_error if row else None,
        source_versions=dict(row.source_versions or {}) if row else {},
        model_count=count_priced_models(session),
        stale=age is None or age > stale_after_s,
        stale_after_s=stale_after_s,
        age_s=age,
    )
