"""Apply price feeds: guard each source, diff against its current rows, write only what changed.

Everything a run writes (new versions, closed versions, the status row) goes in one transaction;
an unchanged model writes nothing, so a second identical run writes 0 rows. A refused or
unreachable source keeps its old prices, is recorded in ``pricing_status`` and raises an alert.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from tollgate.alerts.queue import AlertQueue
from tollgate.clock import Clock
from tollgate.db.models import ModelPrice
from tollgate.observability import logger
from tollgate.pricing.calculator import PriceRow
from tollgate.pricing.feeds import FeedLoader, ParsedFeed
from tollgate.pricing.feeds.fetch import FeedError
from tollgate.pricing.guard import OVERRIDABLE, GuardLimits, check_feed
from tollgate.pricing.precedence import to_price_row
from tollgate.pricing.status import lock_status, record_attempt

_CHUNK = 500
_ROW_COLUMNS = tuple(f.name for f in fields(PriceRow) if f.name not in ("id", "effective_from"))


class ProgressSink(Protocol):
    def __call__(self, source: str, stage: str) -> None: ...


def _no_progress(source: str, stage: str) -> None:
    return None


@dataclass
class SourceReport:
    source: str
    status: str = "applied"  # applied | rejected | failed
    version: str | None = None
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0
    duplicates: int = 0
    rows_written: int = 0
    problems: list[str] = field(default_factory=list)
    # Which (provider, model) were added, re-priced and removed (for logs and tests).
    changes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def models(self) -> int:
        return self.added + self.changed + self.unchanged


@dataclass
class RefreshReport:
    sources: list[SourceReport]
    forced: bool = False

    @property
    def ok(self) -> bool:
        return all(s.status == "applied" for s in self.sources)

    @property
    def rows_written(self) -> int:
        return sum(s.rows_written for s in self.sources)

    def source(self, name: str) -> SourceReport:
        return next(s for s in self.sources if s.source == name)


def _insert_values(row: PriceRow, effective_from: datetime, now: datetime) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in _ROW_COLUMNS}
    values.update(
        id=uuid.uuid4(),
        effective_from=effective_from,
        effective_to=None,
        created_at=now,
        is_free=row.input_per_1m == 0 and row.output_per_1m == 0,
    )
    return values


def apply_feed(
    session: Session, feed: ParsedFeed, current: Mapping[tuple[str, str], ModelPrice], now: datetime
) -> SourceReport:
    """Write the difference between ``feed`` and the source's ``current`` rows."""
    report = SourceReport(feed.source, version=feed.version, skipped=feed.skipped, duplicates=feed.duplicates)
    inserts: list[dict[str, Any]] = []
    closing: list[uuid.UUID] = []
    report.changes = {"added": [], "changed": [], "removed": []}
    incoming = {(row.provider, row.model): row for row in feed.prices}
    for ident, row in incoming.items():
        old = current.get(ident)
        if old is None:
            report.added += 1
            report.changes["added"].append(ident)
            inserts.append(_insert_values(row, now, now))
        elif to_price_row(old).prices() != row.prices():
            report.changed += 1
            report.changes["changed"].append(ident)
            closing.append(old.id)
            starts = max(now, old.effective_from + timedelta(microseconds=1))
            inserts.append(_insert_values(row, starts, now))
        else:
            report.unchanged += 1
    for ident, old in current.items():
        if ident not in incoming:
            report.removed += 1
            report.changes["removed"].append(ident)
            closing.append(old.id)
    for start in range(0, len(closing), _CHUNK):
        ids = closing[start : start + _CHUNK]
        session.execute(update(ModelPrice).where(ModelPrice.id.in_(ids)).values(effective_to=now))
    if inserts:
        # Core executemany on the table (the ORM bulk path splits rows into batches by their NULLs)
        session.execute(insert(cast(Table, ModelPrice.__table__)), inserts)
    report.rows_written = len(closing) + len(inserts)
    return report


def current_rows(session: Session, source: str) -> dict[tuple[str, str], ModelPrice]:
    rows = session.scalars(select(ModelPrice).where(ModelPrice.source == source, ModelPrice.effective_to.is_(None)))
    return {(row.provider, row.model): row for row in rows}


class PriceRefresher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        alerts: AlertQueue,
        loaders: Mapping[str, FeedLoader],
        *,
        limits: GuardLimits | None = None,
        on_applied: Callable[[], None] | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._alerts = alerts
        self._loaders = dict(loaders)
        self._limits = limits or GuardLimits()
        self._on_applied = on_applied

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(self._loaders)

    def refresh(self, *, force: bool = False, progress: ProgressSink = _no_progress) -> RefreshReport:
        feeds: dict[str, ParsedFeed] = {}
        reports: list[SourceReport] = []
        for source, load in self._loaders.items():
            progress(source, "fetch")
            try:
                feeds[source] = load()
            except FeedError as exc:
                reports.append(SourceReport(source, status="failed", problems=[str(exc)]))
        now = self._clock.now()
        with self._sessions.begin() as session:
            status = lock_status(session)
            for source, feed in feeds.items():
                progress(source, "check")
                reports.append(self._apply(session, feed, now, force=force, progress=progress))
            record_attempt(session, status, reports, now)
        report = RefreshReport(sorted(reports, key=lambda r: list(self._loaders).index(r.source)), forced=force)
        self._announce(report, now)
        return report

    def _apply(
        self, session: Session, feed: ParsedFeed, now: datetime, *, force: bool, progress: ProgressSink
    ) -> SourceReport:
        current = current_rows(session, feed.source)
        known = {ident: to_price_row(row) for ident, row in current.items()}
        problems = check_feed(feed, known, self._limits)
        blocking = [p for p in problems if not (force and p.kind in OVERRIDABLE)]
        if blocking:
            return SourceReport(
                feed.source, status="rejected", version=feed.version, problems=[p.message for p in blocking]
            )
        progress(feed.source, "write")
        report = apply_feed(session, feed, current, now)
        report.problems = [f"overridden: {p.message}" for p in problems]
        return report

    def _announce(self, report: RefreshReport, now: datetime) -> None:
        if report.rows_written and self._on_applied is not None:
            self._on_applied()
        for source in report.sources:
            logger.info(
                "pricing refresh",
                extra={
                    "source": source.source,
                    "status": source.status,
                    "added": source.added,
                    "changed": source.changed,
                    "removed": source.removed,
                    "rows_written": source.rows_written,
                },
            )
            if source.status != "applied":
                self._alerts.enqueue(
                    {
                        "event": "pricing.feed_rejected",
                        "source": source.source,
                        "status": source.status,
                        "problems": source.problems,
                        "sent_at": now.isoformat(),
                    }
                )
