"""Execution tracking per agent or workflow: success rate, averages per run, recent failures.

Counts, tokens and cost come from the same rollup-plus-raw summary; the recent failures and the
error-type breakdown come from raw rows in the range (only non-success rows are read).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tollgate.db.repositories.usage_queries import UsageQueries
from tollgate.money import ZERO, quantize_usd
from tollgate.usage.filters import UsageFilter
from tollgate.usage.summary import SummaryRequest, SummaryService
from tollgate.usage.tally import TOKEN_FIELDS, Tally

EXECUTION_GROUPS = ("agent", "workflow")


@dataclass(frozen=True)
class ExecutionsRequest:
    filter: UsageFilter  # start and end are set
    group_by: str = "agent"
    failures: int = 5


def _per_run(tally: Tally) -> dict[str, Any]:
    runs = tally.requests
    averages: dict[str, Any] = {f"avg_{name}": round(getattr(tally, name) / runs, 2) for name in TOKEN_FIELDS}
    averages["avg_total_tokens"] = round(tally.total_tokens / runs, 2)
    averages["avg_cost_usd"] = quantize_usd(tally.cost_usd / Decimal(runs)) if runs else ZERO
    return averages


class ExecutionStats:
    def __init__(self, session_factory: sessionmaker[Session], summaries: SummaryService) -> None:
        self._sessions = session_factory
        self._summaries = summaries

    def collect(self, request: ExecutionsRequest) -> list[dict[str, Any]]:
        group_by = request.group_by
        summary = self._summaries.summarize(SummaryRequest(request.filter, group_by=group_by))
        failures: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        error_types: dict[Any, dict[str, int]] = defaultdict(dict)
        with self._sessions() as session:
            queries = UsageQueries(session)
            if request.failures > 0:
                for row in queries.recent_failures(request.filter, group_by, request.failures):
                    failures[row.grp].append(
                        {
                            "request_id": row.request_id,
                            "status": row.status,
                            "error_type": row.error_type,
                            "provider": row.provider,
                            "model": row.model,
                            "created_at": row.created_at,
                        }
                    )
            for row in queries.error_type_counts(request.filter, group_by):
                error_types[row.grp][row.error_type or "unknown"] = int(row.n)
        out = []
        for (name,), tally in summary.groups.items():
            metrics = tally.metrics()
            out.append(
                {
                    group_by: name,
                    "runs": tally.requests,
                    "successes": tally.successes,
                    "failures": tally.failures,
                    "success_rate": metrics["success_rate"],
                    **_per_run(tally),
                    "cost_usd": tally.cost_usd,
                    "p50_latency_ms": metrics["p50_latency_ms"],
                    "p95_latency_ms": metrics["p95_latency_ms"],
                    "error_types": error_types.get(name, {}),
                    "last_failures": failures.get(name, []),
                }
            )
        out.sort(key=lambda r: (-r["runs"], str(r[group_by])))
        return out
