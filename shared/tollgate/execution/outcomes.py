"""Recording what a call did: its usage row and the settlement of its reservations, written in
ONE transaction (group-committed with other calls finishing at the same time, ``GroupWriter``),
so a call is either fully accounted or not at all."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tollgate.budgets.guard import Admission, BudgetGuard
from tollgate.clock import Clock
from tollgate.db.engine import engine_of
from tollgate.db.repositories.usage import write_usage_rows
from tollgate.execution.blocking import BlockingPool
from tollgate.execution.call import ExecuteCall
from tollgate.execution.planning import CandidatePrice, Plan
from tollgate.execution.recording import GroupWriter
from tollgate.ids import new_row_id
from tollgate.keys.limits import KeyLimiter
from tollgate.money import ZERO
from tollgate.observability import logger
from tollgate.providers.base import Usage

# A call cut by its deadline: charged at the reserved worst case, estimated.
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Outcome:
    """What a call did. ``priced`` is the candidate it is billed as (the one that served; the first
    one when none did): its provider, model, credential and price row go on the usage row, and a
    price estimated under the unpriced policy flags the row ``estimated``."""

    priced: CandidatePrice
    usage: Usage
    cost: Decimal
    status: str
    error_type: str | None
    upstream_ms: int | None
    fallback_from: str | None
    estimated: bool = False


@dataclass(frozen=True)
class _Row:
    record: dict[str, Any]  # the usage row, column name -> value (every column set)
    key_id: uuid.UUID | None
    admission: Admission
    cost: Decimal
    tokens: int = 0  # every token class of the call, added to its key's TPM window


class OutcomeRecorder:
    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        clock: Clock,
        budgets: BudgetGuard,
        key_limits: KeyLimiter,
        blocking: BlockingPool,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._budgets = budgets
        self._key_limits = key_limits
        self._engine = engine_of(sessions)
        self._blocking = blocking
        self._releasing: set[asyncio.Task[None]] = set()  # releases of cancelled marks, held until done
        self._writer: GroupWriter[_Row] = GroupWriter(blocking, self._write_rows, self._write_one)
        self._marks: GroupWriter[Admission] = GroupWriter(blocking, budgets.mark_started_many, budgets.mark_started)

    async def mark_started(self, admission: Admission) -> None:
        """Durably mark the call's reservations started, just before its provider request (crash
        safety, ``BudgetGuard.mark_started``). Calls marked at the same time share one transaction
        and one hop to the blocking pool (``GroupWriter``); returns once the mark is committed.
        Raises ``ServiceUnavailable`` (reservations released) when it cannot be written.

        Cancelled while waiting (the client left), the call never goes out, so its reservations are
        given back (on the pool, in the background) rather than left marked for the sweeper to
        charge: whether the group's UPDATE lands before or after the release, nothing stays held."""
        if not admission.reservations:
            return
        try:
            await self._marks.submit(admission)
        except asyncio.CancelledError:
            release = asyncio.get_running_loop().create_task(self._blocking.run(self._budgets.release, admission))
            self._releasing.add(release)
            release.add_done_callback(self._releasing.discard)
            raise

    async def record(self, call: ExecuteCall, plan: Plan, outcome: Outcome) -> None:
        """Write the usage row and settle the reservations, grouped into one transaction with
        other calls finishing at the same time (``GroupWriter``); raises what writing it raised."""
        row = _Row(
            self._usage_row(call, plan, outcome), call.key_id, plan.admission, outcome.cost, outcome.usage.total_tokens
        )
        await self._writer.submit(row)

    async def record_or_leave_to_sweeper(self, call: ExecuteCall, plan: Plan, outcome: Outcome) -> None:
        """Record the call (group-committed). If that fails the reservations stay: the upstream call
        started, so the sweeper charges them (estimated) once they expire rather than lose the call
        from spend."""
        try:
            await self.record(call, plan, outcome)
        except Exception:
            logger.exception("could not record a call; the sweeper will charge it", extra={"stream": call.stream})

    async def record_failure(self, call: ExecuteCall, plan: Plan, error_type: str, upstream_started: float) -> None:
        """A call that failed upstream: an ``error`` row at cost 0 (which releases the reservations)."""
        outcome = Outcome(plan.priced.first, Usage(), ZERO, "error", error_type, ms_since(upstream_started), None)
        await self.record_or_leave_to_sweeper(call, plan, outcome)

    async def record_interrupted(
        self, call: ExecuteCall, plan: Plan, upstream_started: float, error_type: str = "deadline_exceeded"
    ) -> None:
        """The call was cut while the provider was answering (its deadline passed: ``deadline_exceeded``;
        its task was cancelled, e.g. at server shutdown: ``upstream_interrupted``, the sweeper's word for the
        same case after a crash): charge the reserved worst case as an estimated row."""
        outcome = Outcome(
            plan.priced.first,
            Usage(),
            plan.admission.worst_case_usd or ZERO,
            INTERRUPTED,
            error_type,
            ms_since(upstream_started),
            None,
            estimated=True,
        )
        await self.record_or_leave_to_sweeper(call, plan, outcome)

    def _write_one(self, row: _Row) -> None:
        self._write_rows([row])

    def _write_rows(self, rows: Sequence[_Row]) -> None:
        """Usage rows and settlements of several calls in ONE transaction (all or nothing), on a Core
        connection. The keys' TPM windows are updated in key id order, so two groups (two worker
        processes) lock those rows in the same order and cannot deadlock."""
        with self._engine.begin() as connection:
            write_usage_rows(connection, [row.record for row in rows])
            messages = self._budgets.settle_on(connection, [(row.admission, row.cost) for row in rows])
            counted = sorted((row for row in rows if row.tokens > 0 and row.key_id is not None), key=_by_key)
            if counted:
                with Session(bind=connection) as session:  # the key limiter reads and writes through a session
                    for row in counted:
                        self._key_limits.count_tokens(session, row.key_id, row.tokens)
        self._budgets.publish(messages)

    def _usage_row(self, call: ExecuteCall, plan: Plan, outcome: Outcome) -> dict[str, Any]:
        """The usage row's columns, every one set (so a group is one multi-row insert)."""
        candidate, usage = outcome.priced.candidate, outcome.usage
        return {
            "id": new_row_id(),  # buffered randomness: no GIL-releasing syscall on the loop
            "workspace_id": call.workspace_id,
            "request_id": call.request_id,
            "key_id": call.key_id,
            "credential_id": candidate.target.credential_id,
            "provider": candidate.provider,
            "model": candidate.model,
            "requested_model": call.requested_model,
            "workflow": call.attribution.workflow,
            "agent": call.attribution.agent,
            "tags": list(call.attribution.tags),
            "status": outcome.status,
            "error_type": outcome.error_type,
            "input_tokens": usage.input_tokens,
            "cache_read_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "output_tokens": usage.output_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
            "cost_usd": outcome.cost,
            "price_id": outcome.priced.price.id,
            "estimated": outcome.estimated or outcome.priced.estimated or usage.estimated,
            "latency_ms": ms_since(plan.started),
            "upstream_ms": outcome.upstream_ms,
            "stream": call.stream,
            "fallback_from": outcome.fallback_from,
            "routing_rule_id": plan.routing_rule_id,
            "created_at": self._clock.now(),
        }


def _by_key(row: _Row) -> str:
    return str(row.key_id)


def ms_since(started: float) -> int:
    """Whole milliseconds since ``started`` (a ``time.perf_counter()`` reading)."""
    return int((time.perf_counter() - started) * 1000)
