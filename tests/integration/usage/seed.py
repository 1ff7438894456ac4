"""Seeding usage rows through the real write path (UsageRepository.add) and reference aggregates."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tollgate.db.models import UsageDaily, UsageRecord
from tollgate.db.repositories.usage import UsageRepository
from tollgate.usage.latency import COLUMNS, bucket_of
from tollgate.wiring import Services

MODELS = {"openai": ["gpt-4o-mini", "gpt-4o"], "anthropic": ["claude-sonnet-4-5"], "gemini": ["gemini-2.0-flash"]}
WORKFLOWS = ["onboarding", "support", None]
AGENTS = ["greeter", "triage", "writer", None]
ERRORS = ["provider_unavailable", "rate_limit_error", "provider_auth_error"]


@dataclass
class Row:
    """The attributes tests need to recompute aggregates without the database."""

    workspace_id: uuid.UUID
    key_id: uuid.UUID | None
    provider: str
    model: str
    workflow: str | None
    agent: str | None
    status: str
    error_type: str | None
    tokens: tuple[int, int, int, int, int]
    cost_usd: Decimal
    latency_ms: int
    created_at: datetime
    request_id: str = ""


def make_record(row: Row) -> UsageRecord:
    row.request_id = row.request_id or f"req_{uuid.uuid4().hex[:24]}"
    return UsageRecord(
        id=uuid.uuid4(),
        workspace_id=row.workspace_id,
        request_id=row.request_id,
        key_id=row.key_id,
        provider=row.provider,
        model=row.model,
        requested_model=f"{row.provider}/{row.model}",
        workflow=row.workflow,
        agent=row.agent,
        tags=["seed"],
        status=row.status,
        error_type=row.error_type,
        input_tokens=row.tokens[0],
        cache_read_tokens=row.tokens[1],
        cache_write_tokens=row.tokens[2],
        output_tokens=row.tokens[3],
        reasoning_tokens=row.tokens[4],
        cost_usd=row.cost_usd,
        price_id=None,
        estimated=False,
        latency_ms=row.latency_ms,
        stream=False,
        fallback_from=None,
        created_at=row.created_at,
    )


def insert(services: Services, rows: list[Row]) -> None:
    with services.sessions.begin() as session:
        repo = UsageRepository(session)
        for row in rows:
            repo.add(make_record(row))


def random_rows(
    rng: random.Random,
    workspace_id: uuid.UUID,
    keys: list[uuid.UUID | None],
    count: int,
    start: datetime,
    span: timedelta,
) -> list[Row]:
    rows = []
    for _ in range(count):
        provider = rng.choice(sorted(MODELS))
        ok = rng.random() < 0.8
        status = "success" if ok else rng.choice(["error", "error", "cancelled"])
        rows.append(
            Row(
                workspace_id=workspace_id,
                key_id=rng.choice(keys),
                provider=provider,
                model=rng.choice(MODELS[provider]),
                workflow=rng.choice(WORKFLOWS),
                agent=rng.choice(AGENTS),
                status=status,
                error_type=None if ok else rng.choice(ERRORS),
                tokens=(
                    rng.randint(0, 5000),
                    rng.randint(0, 2000),
                    rng.randint(0, 500),
                    rng.randint(0, 3000),
                    rng.randint(0, 800),
                ),
                cost_usd=Decimal(rng.randint(0, 10**9)) / Decimal(10**12) + Decimal("0.000000000001"),
                latency_ms=int(rng.lognormvariate(6, 1.2)),
                created_at=start + timedelta(microseconds=rng.randrange(int(span.total_seconds() * 1_000_000))),
            )
        )
    return rows


def reference(rows: list[Row], key_of: Any) -> dict[Any, dict[str, Any]]:
    """Exact per-group aggregates computed in Python."""
    out: dict[Any, dict[str, Any]] = defaultdict(
        lambda: {"requests": 0, "successes": 0, "cost_usd": Decimal(0), "tokens": [0] * 5, "latencies": []}
    )
    for row in rows:
        group = out[key_of(row)]
        group["requests"] += 1
        group["successes"] += row.status == "success"
        group["cost_usd"] += row.cost_usd
        group["tokens"] = [a + b for a, b in zip(group["tokens"], row.tokens, strict=True)]
        group["latencies"].append(row.latency_ms)
    return dict(out)


def rollup_from_rows(rows: list[Row]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """What usage_daily must contain for these rows."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = (
            row.workspace_id,
            row.created_at.astimezone(UTC).date(),
            row.provider,
            row.model,
            row.workflow or "",
            row.agent or "",
            str(row.key_id) if row.key_id else "",
        )
        cell = out.setdefault(key, {"requests": 0, "successes": 0, "cost_usd": Decimal(0), "lat": [0] * len(COLUMNS)})
        cell["requests"] += 1
        cell["successes"] += row.status == "success"
        cell["cost_usd"] += row.cost_usd
        cell["lat"][bucket_of(row.latency_ms)] += 1
    return out


def rollup_in_db(services: Services) -> dict[tuple[Any, ...], dict[str, Any]]:
    table = UsageDaily.__table__
    with services.engine.connect() as connection:
        result = connection.execute(table.select()).mappings().all()
    return {
        (r["workspace_id"], r["day"], r["provider"], r["model"], r["workflow"], r["agent"], r["key_id"]): {
            "requests": r["requests"],
            "successes": r["successes"],
            "cost_usd": r["cost_usd"],
            "lat": [r[c] for c in COLUMNS],
        }
        for r in result
    }


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
