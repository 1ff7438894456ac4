"""A group of finished calls (``OutcomeRecorder._write_rows``) on SQLite and PostgreSQL: the keys'
TPM windows are updated in key id order whatever order the calls finished in, so two groups (two
worker processes) take those row locks in one order and cannot deadlock; every row, rollup and
token count is written, and the group's settlements free the reservations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.integration.budgets.test_guard import counter, ctx, spec
from tests.support import Tenant
from tollgate.budgets.guard import Admission
from tollgate.db.models import KeyRateWindow, UsageDaily, UsageRecord
from tollgate.execution.outcomes import OutcomeRecorder, _Row
from tollgate.keys.limits import KeyLimiter
from tollgate.wiring import Services


class RecordingLimiter(KeyLimiter):
    """The real limiter, noting the order in which keys' token windows are written."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order: list[uuid.UUID | None] = []

    def count_tokens(self, session: Session, key_id: uuid.UUID | None, tokens: int) -> None:
        self.order.append(key_id)
        super().count_tokens(session, key_id, tokens)


def usage_row(tenant: Tenant, key_id: uuid.UUID, model: str, tokens: int) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "workspace_id": tenant.workspace_id,
        "request_id": f"req_{uuid.uuid4().hex[:24]}",
        "key_id": key_id,
        "credential_id": None,
        "provider": "mock",
        "model": model,
        "requested_model": f"mock/{model}",
        "workflow": None,
        "agent": None,
        "tags": [],
        "status": "success",
        "error_type": None,
        "input_tokens": tokens,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "output_tokens": 0,
        "reasoning_tokens": 0,
        "cost_usd": Decimal("0.01"),
        "price_id": None,
        "estimated": False,
        "latency_ms": 12,
        "upstream_ms": 10,
        "stream": False,
        "fallback_from": None,
        "routing_rule_id": None,
        "created_at": datetime.now(UTC),
    }


def test_token_windows_are_written_in_key_id_order_and_the_group_is_complete(
    services: Services, tenant: Tenant
) -> None:
    budget = services.budget_service.create(tenant.workspace_id, spec(limit_usd=Decimal("10.00")))
    keys = [
        services.gateway_keys.create(tenant.workspace_id, f"k{i}", "member", {"tpm_limit": 10_000}) for i in range(4)
    ]
    key_ids = [created.row.id for created in keys]
    limiter = RecordingLimiter(services.sessions, services.clock)
    recorder = OutcomeRecorder(
        sessions=services.sessions,
        clock=services.clock,
        budgets=services.budget_guard,
        key_limits=limiter,
        blocking=services.blocking,
    )
    # Given calls that finished in descending key order (each on its own model: no shared rollup row)
    finished = sorted(key_ids, key=str, reverse=True)
    rows = []
    for index, key_id in enumerate(finished):
        admission: Admission = services.budget_guard.admit(ctx(tenant), Decimal("0.50"))
        rows.append(
            _Row(usage_row(tenant, key_id, f"m{index}", 100 + index), key_id, admission, Decimal("0.01"), 100 + index)
        )
    # When they are written as one group
    recorder._write_rows(rows)
    # Then the token windows were updated in ascending key id order
    assert limiter.order == sorted(key_ids, key=str)
    # And everything of the group is there: rows, rollups, token windows, settled counters
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(UsageRecord)) == 4
        assert session.scalar(select(func.sum(UsageDaily.requests))) == 4
        windows = {w.key_id: w.tokens for w in session.scalars(select(KeyRateWindow))}
    assert windows == {key_id: 100 + index for index, key_id in enumerate(finished)}
    settled = counter(services, budget.id)
    assert settled.spent_usd == Decimal("0.04") and settled.reserved_usd == Decimal(0)
