"""The execute path: resolve → price → admit budgets → call provider → meter → record, settle.

The usage row and the budget settlement are written in one transaction, so a call is either
fully accounted or not at all.

``execute`` is a coroutine. The provider call (and a stream's whole life) runs on the event loop;
the short synchronous database steps (``_plan``: resolve, price, reserve; ``_record``: usage row +
settle) run on the bounded ``BlockingPool``, which never waits on a provider.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from tollgate.alerts.queue import AlertQueue
from tollgate.budgets.guard import Admission, BudgetGuard, SpendContext
from tollgate.clock import Clock
from tollgate.db.models import UsageRecord
from tollgate.db.repositories.usage import UsageRepository
from tollgate.db.repositories.workspaces import WorkspaceRepository
from tollgate.errors import InternalError
from tollgate.execution.attribution import Attribution
from tollgate.execution.blocking import BlockingPool
from tollgate.execution.recording import GroupWriter
from tollgate.execution.resolver import Candidate, ModelResolver
from tollgate.execution.sse import StreamRecorder, sse, sse_error
from tollgate.metering.output_cap import output_cap, with_output_cap
from tollgate.money import ZERO, format_usd
from tollgate.observability import logger
from tollgate.pricing.book import PriceBook
from tollgate.pricing.calculator import PriceRow, cost_of, worst_case_cost
from tollgate.pricing.tokens import size_request
from tollgate.pricing.unpriced import BLOCK_UNPRICED, PricedAs, UnpricedAlerts, resolve_price
from tollgate.providers.base import Usage
from tollgate.providers.errors import ProviderCallError, to_gateway_error
from tollgate.providers.invoker import ProviderInvoker

T = TypeVar("T")

# Body fields that are Tollgate's, not the provider's.
_GATEWAY_FIELDS = ("model", "metadata")


@dataclass(frozen=True)
class ExecuteCall:
    workspace_id: uuid.UUID
    key_id: uuid.UUID | None
    request_id: str
    body: dict[str, Any]
    attribution: Attribution
    # None: the workspace's policy, read only when a model turns out to be unpriced.
    unpriced_policy: str | None = None

    @property
    def requested_model(self) -> str:
        return str(self.body["model"])

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))


@dataclass
class ExecuteResult:
    headers: dict[str, str]
    body: dict[str, Any] | None = None
    chunks: AsyncIterator[bytes] | None = None


@dataclass(frozen=True)
class _Outcome:
    candidate: Candidate
    usage: Usage
    cost: Decimal
    price: PriceRow
    status: str
    error_type: str | None
    upstream_ms: int | None
    fallback_from: str | None


@dataclass(frozen=True)
class _Row:
    record: UsageRecord
    admission: Admission
    cost: Decimal


@dataclass
class _Plan:
    candidates: list[Candidate]
    price: PriceRow
    admission: Admission
    started: float
    downgraded_to: str | None = None
    estimated: bool = False
    headers: dict[str, str] = field(default_factory=dict)


class ExecuteService:
    def __init__(
        self,
        *,
        resolver: ModelResolver,
        invoker: ProviderInvoker,
        prices: PriceBook,
        budgets: BudgetGuard,
        session_factory: sessionmaker[Session],
        clock: Clock,
        alerts: AlertQueue | None = None,
        blocking: BlockingPool | None = None,
    ) -> None:
        self._resolver = resolver
        self._invoker = invoker
        self._prices = prices
        self._budgets = budgets
        self._sessions = session_factory
        self._clock = clock
        self._unpriced_alerts = UnpricedAlerts(alerts, clock) if alerts is not None else None
        self._blocking = blocking or BlockingPool(8)
        self._writer: GroupWriter[_Row] = GroupWriter(self._blocking, self._write_rows, self._write_one)

    async def execute(self, call: ExecuteCall) -> ExecuteResult:
        """Plan (on the blocking pool), call the provider (on the loop), record; a stream's
        ``chunks`` is an async iterator of SSE bytes whose end (or ``aclose``) records the usage.
        Raises the gateway errors of planning (budget, unknown model...) and of the provider."""
        plan = await self._blocking.run(self._plan, call)
        upstream_body = {k: v for k, v in call.body.items() if k not in _GATEWAY_FIELDS}
        # The cap reserved for in _admit (same function, same inputs) is exactly the cap sent upstream.
        upstream_body = with_output_cap(upstream_body, output_cap(call.body, plan.price.max_output_tokens))
        if call.stream:
            return await self._execute_stream(call, plan, upstream_body)
        return await self._execute_once(call, plan, upstream_body)

    # -- planning -----------------------------------------------------------------------------

    def _plan(self, call: ExecuteCall) -> _Plan:
        started = time.perf_counter()
        candidates = self._resolver.resolve(call.workspace_id, call.requested_model)
        priced = self._price_for(candidates[0], call)
        admission = self._admit(call, candidates[0], priced.price, allow_downgrade=True)
        downgraded_to = None
        if admission.downgrade_model:
            downgraded_to = admission.downgrade_model
            candidates = self._resolver.resolve(call.workspace_id, downgraded_to)
            priced = self._price_for(candidates[0], call)
            admission = self._admit(call, candidates[0], priced.price, allow_downgrade=False)
        return _Plan(candidates, priced.price, admission, started, downgraded_to, estimated=priced.estimated)

    def _price_for(self, candidate: Candidate, call: ExecuteCall) -> PricedAs:
        provider, model = candidate.provider, candidate.model
        policy = call.unpriced_policy
        if policy is None and self._prices.current(provider, model, call.workspace_id) is None:
            policy = self._workspace_policy(call.workspace_id)
        priced = resolve_price(self._prices, provider, model, policy or BLOCK_UNPRICED, call.workspace_id)
        if priced.estimated and self._unpriced_alerts is not None:
            self._unpriced_alerts.raise_once(str(call.workspace_id), provider, model, priced.price)
        return priced

    def _workspace_policy(self, workspace_id: uuid.UUID) -> str:
        with self._sessions() as session:
            workspace = WorkspaceRepository(session).get(workspace_id)
        return workspace.unpriced_policy if workspace is not None else BLOCK_UNPRICED

    def _admit(self, call: ExecuteCall, candidate: Candidate, price: PriceRow, *, allow_downgrade: bool) -> Admission:
        size = size_request(candidate.provider, candidate.model, call.body, price.max_output_tokens)
        worst = worst_case_cost(size.prompt_tokens, size.output_tokens, price)
        context = SpendContext(
            workspace_id=call.workspace_id,
            key_id=call.key_id,
            provider=candidate.provider,
            model=candidate.model,
            workflow=call.attribution.workflow,
            agent=call.attribution.agent,
            request_id=call.request_id,
            prompt_tokens=size.prompt_tokens,
            output_tokens=size.output_tokens,
        )
        return self._budgets.admit(context, worst, allow_downgrade=allow_downgrade)

    # -- non-streaming ------------------------------------------------------------------------

    async def _execute_once(self, call: ExecuteCall, plan: _Plan, body: dict[str, Any]) -> ExecuteResult:
        upstream_started = time.perf_counter()
        served = await self._guarded(call, plan, upstream_started, self._invoker.complete(plan.candidates, body))
        assert served.response is not None
        upstream_ms = _ms_since(upstream_started)
        usage = served.response.usage
        price = await self._served_price(served.candidate, plan, call)
        cost = cost_of(usage, price)
        outcome = _Outcome(served.candidate, usage, cost, price, "success", None, upstream_ms, served.fallback_from)
        await self._record(call, plan, outcome)
        response = served.response.body
        response["model"] = f"{served.candidate.provider}/{served.candidate.model}"
        headers = self._headers(call, plan, served.candidate, served.fallback_from)
        headers["x-tollgate-cost-usd"] = format_usd(cost)
        return ExecuteResult(headers=headers, body=response)

    async def _guarded(self, call: ExecuteCall, plan: _Plan, upstream_started: float, invoke: Awaitable[T]) -> T:
        """Await the upstream call; a failure is recorded as a failed usage row (which releases the
        reservations) and surfaces as the gateway's error shape."""
        try:
            return await invoke
        except ProviderCallError as exc:
            await self._record_failure(call, plan, exc.kind.value, upstream_started)
            raise to_gateway_error(exc) from None
        except BaseException:
            await self._record_failure(call, plan, "internal_error", upstream_started)
            raise

    # -- streaming ----------------------------------------------------------------------------

    async def _execute_stream(self, call: ExecuteCall, plan: _Plan, body: dict[str, Any]) -> ExecuteResult:
        upstream_started = time.perf_counter()
        body = {**body, "stream_options": {**(body.get("stream_options") or {}), "include_usage": True}}
        opened = await self._guarded(call, plan, upstream_started, self._invoker.open_stream(plan.candidates, body))
        headers = self._headers(call, plan, opened.candidate, opened.fallback_from)
        return ExecuteResult(headers=headers, chunks=self._relay(call, plan, opened, upstream_started))

    async def _relay(
        self, call: ExecuteCall, plan: _Plan, opened: Any, upstream_started: float
    ) -> AsyncIterator[bytes]:
        """Relay chunks as SSE. The usage row is written before the final usage chunk and [DONE] go
        out (the usage chunk only when the client asked ``stream_options.include_usage``), so a client that
        has read the whole stream can already see its usage. Closing the
        relay (client gone) or cancelling its task records what was produced as ``cancelled``."""
        stream = opened.stream
        public_model = f"{opened.candidate.provider}/{opened.candidate.model}"
        recorder = StreamRecorder(self._stream_recording(call, plan, opened, upstream_started))
        last: dict[str, Any] = {}
        try:
            async for chunk in stream:
                chunk["model"] = public_model
                last = chunk
                yield sse(chunk)
            await recorder.finish("success", None)
            if _wants_usage(call.body):  # as OpenAI: the usage chunk only when the client asked for it
                final = {
                    "id": last.get("id", call.request_id),
                    "object": "chat.completion.chunk",
                    "created": last.get("created", int(time.time())),
                    "model": public_model,
                    "choices": [],
                    "usage": stream.usage.to_openai(),
                }
                yield sse(final)
            yield b"data: [DONE]\n\n"
        except (GeneratorExit, asyncio.CancelledError):
            await recorder.finish("cancelled", "client_disconnected")
            raise
        except ProviderCallError as exc:
            await recorder.finish("error", exc.kind.value)
            yield sse_error(call.request_id, to_gateway_error(exc))
        except Exception:
            logger.exception("stream relay failed")
            await recorder.finish("error", "internal_error")
            yield sse_error(call.request_id, InternalError("The stream failed; see logs for this request id"))
        finally:
            await recorder.finish("cancelled", "client_disconnected")

    # -- accounting ---------------------------------------------------------------------------

    def _price_for_served(self, candidate: Candidate, plan: _Plan, call: ExecuteCall) -> PriceRow:
        if candidate is plan.candidates[0]:
            return plan.price
        return self._prices.current(candidate.provider, candidate.model, call.workspace_id) or plan.price

    async def _served_price(self, candidate: Candidate, plan: _Plan, call: ExecuteCall) -> PriceRow:
        if candidate is plan.candidates[0]:
            return plan.price
        return await self._blocking.run(self._price_for_served, candidate, plan, call)

    async def _record(self, call: ExecuteCall, plan: _Plan, outcome: _Outcome) -> None:
        """Write the usage row and settle the reservations, grouped into one transaction with
        other calls finishing at the same time (``GroupWriter``); raises what writing it raised."""
        await self._writer.submit(_Row(self._usage_row(call, plan, outcome), plan.admission, outcome.cost))

    async def _record_or_release(self, call: ExecuteCall, plan: _Plan, outcome: _Outcome) -> None:
        """Record the call; if that fails, give the reservations back rather than hold them."""
        try:
            await self._record(call, plan, outcome)
        except Exception:
            logger.exception("could not record a call", extra={"stream": call.stream})
            await self._blocking.run(self._budgets.release, plan.admission)

    def _write_one(self, row: _Row) -> None:
        self._write_rows([row])

    def _write_rows(self, rows: Sequence[_Row]) -> None:
        """Usage rows and settlements of several calls in ONE transaction (all or nothing)."""
        with self._sessions.begin() as session:
            usage = UsageRepository(session)
            for row in rows:
                usage.add(row.record)
                self._budgets.settle(session, row.admission, row.cost)

    def _usage_row(self, call: ExecuteCall, plan: _Plan, outcome: _Outcome) -> UsageRecord:
        candidate, usage = outcome.candidate, outcome.usage
        return UsageRecord(
            id=uuid.uuid4(),
            workspace_id=call.workspace_id,
            request_id=call.request_id,
            key_id=call.key_id,
            credential_id=candidate.target.credential_id,
            provider=candidate.provider,
            model=candidate.model,
            requested_model=call.requested_model,
            workflow=call.attribution.workflow,
            agent=call.attribution.agent,
            tags=list(call.attribution.tags),
            status=outcome.status,
            error_type=outcome.error_type,
            input_tokens=usage.input_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            output_tokens=usage.output_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            cost_usd=outcome.cost,
            price_id=outcome.price.id,
            estimated=(plan.estimated and outcome.price is plan.price) or usage.estimated,
            latency_ms=_ms_since(plan.started),
            upstream_ms=outcome.upstream_ms,
            stream=call.stream,
            fallback_from=outcome.fallback_from,
            created_at=self._clock.now(),
        )

    async def _record_failure(self, call: ExecuteCall, plan: _Plan, error_type: str, upstream_started: float) -> None:
        await self._record_or_release(call, plan, self._failure(plan, error_type, upstream_started))

    @staticmethod
    def _failure(plan: _Plan, error_type: str, upstream_started: float) -> _Outcome:
        return _Outcome(
            plan.candidates[0], Usage(), ZERO, plan.price, "error", error_type, _ms_since(upstream_started), None
        )

    def _stream_recording(
        self, call: ExecuteCall, plan: _Plan, opened: Any, upstream_started: float
    ) -> Callable[[str, str | None], Awaitable[None]]:
        """How a streamed call's usage is recorded once it ends with ``status`` (what was produced so far)."""

        async def record(status: str, error_type: str | None) -> None:
            try:
                await opened.stream.aclose()
            except Exception:
                logger.exception("could not close an upstream stream")
            usage: Usage = opened.stream.usage
            try:
                price = await self._served_price(opened.candidate, plan, call)
            except Exception:
                logger.exception("could not price a streamed call; the first candidate's price is used")
                price = plan.price
            outcome = _Outcome(
                opened.candidate,
                usage,
                cost_of(usage, price),
                price,
                status,
                error_type,
                _ms_since(upstream_started),
                opened.fallback_from,
            )
            await self._record_or_release(call, plan, outcome)

        return record

    def _headers(
        self, call: ExecuteCall, plan: _Plan, candidate: Candidate, fallback_from: str | None
    ) -> dict[str, str]:
        headers = {
            "x-tollgate-provider": candidate.provider,
            "x-tollgate-model": candidate.model,
        }
        if fallback_from:
            headers["x-tollgate-fallback"] = fallback_from
        if plan.downgraded_to:
            headers["x-tollgate-downgraded-to"] = plan.downgraded_to
        if plan.admission.remaining_usd is not None:
            headers["x-tollgate-budget-remaining-usd"] = format_usd(plan.admission.remaining_usd)
        return headers


def _wants_usage(body: dict[str, Any]) -> bool:
    """``stream_options.include_usage`` as the client sent it (upstream always gets it, for metering)."""
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
