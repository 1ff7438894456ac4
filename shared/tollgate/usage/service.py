"""Usage reads for the API and the CLI: pages, summaries, exports, execution statistics."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from tollgate.db.models import UsageRecord
from tollgate.db.repositories.usage_queries import Cursor, UsageQueries
from tollgate.usage.executions import ExecutionsRequest, ExecutionStats
from tollgate.usage.export import ExportRequest, export_chunks
from tollgate.usage.filters import UsageFilter
from tollgate.usage.summary import Summary, SummaryRequest, SummaryService


class UsageService:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # Reads never take SQLite's write lock (deferred BEGIN); PostgreSQL ignores the option.
        readonly = engine.execution_options(tollgate_readonly=True)
        self._sessions = sessionmaker(bind=readonly, expire_on_commit=False, autoflush=False)
        self._summaries = SummaryService(self._sessions)
        self._executions = ExecutionStats(self._sessions, self._summaries)

    def page(self, usage_filter: UsageFilter, limit: int, cursor: Cursor | None) -> Sequence[UsageRecord]:
        """``limit`` rows newest first, strictly older than ``cursor``."""
        with self._sessions() as session:
            return UsageQueries(session).page(usage_filter, limit, cursor)

    def count(self, usage_filter: UsageFilter) -> int:
        with self._sessions() as session:
            return UsageQueries(session).count(usage_filter)

    def summary(self, request: SummaryRequest) -> Summary:
        return self._summaries.summarize(request)

    def executions(self, request: ExecutionsRequest) -> list[dict[str, Any]]:
        return self._executions.collect(request)

    def export(
        self,
        request: ExportRequest,
        *,
        on_truncated: Callable[[Cursor], None] | None = None,
        on_rows: Callable[[int], None] | None = None,
    ) -> Iterator[bytes]:
        return export_chunks(self._engine, request, on_truncated=on_truncated, on_rows=on_rows)
