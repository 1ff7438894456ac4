"""The execute path: gate and plan → call the provider → meter → record and settle.

``ExecuteService`` only orchestrates; each step lives in its own module:

* ``planning``: the policy gate, resolve, key limits, price, reserve (``CallPlanner``);
* ``providers.invoker``: retries and failover at the provider;
* ``outcomes``: the usage row and the settlement, in one transaction (``OutcomeRecorder``);
* ``stream_relay``: a stream's relay to the client and the recording of however it ends (a stream
  the client left is read on to the provider's final usage, ``cancelled_stream_read_s`` at most).

``execute`` is a coroutine. The provider call (and a stream's whole life) runs on the event loop;
the short synchronous database steps (planning; the started mark, grouped with other calls'; the
usage row, key TPM + settle) run on the bounded ``BlockingPool``, which never waits on a provider.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from tollgate.alerts.queue import AlertQueue
from tollgate.budgets.guard import BudgetGuard
from tollgate.clock import Clock
from tollgate.errors import InternalError
from tollgate.execution.blocking import BlockingPool
from tollgate.execution.call import ExecuteCall, ExecuteResult
from tollgate.execution.deadline import DeadlineExceeded, DeadlineReached, bound
from tollgate.execution.gate import PolicyGate
from tollgate.execution.operations import StreamFraming
from tollgate.execution.outcomes import Outcome, OutcomeRecorder, ms_since
from tollgate.execution.planning import CallPlanner, Plan
from tollgate.execution.resolver import Candidate, ModelResolver
from tollgate.execution.sse import RecordedRelay, StreamRecorder
from tollgate.execution.stream_relay import DEFAULT_READ_ON_S, UpstreamReader, relay, stream_of, stream_recording
from tollgate.keys.limits import KeyLimiter
from tollgate.metering.output_cap import output_cap, with_output_cap
from tollgate.money import format_usd
from tollgate.pricing.book import PriceBook
from tollgate.pricing.calculator import cost_of
from tollgate.pricing.unpriced import UnpricedAlerts
from tollgate.providers.errors import ProviderCallError, to_gateway_error
from tollgate.providers.invoker import ProviderInvoker

__all__ = ["ExecuteCall", "ExecuteResult", "ExecuteService"]

T = TypeVar("T")

# Body fields that are Tollgate's, not the provider's.
_GATEWAY_FIELDS = ("model", "metadata")


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
        gate: PolicyGate | None = None,
        key_limits: KeyLimiter | None = None,
        cancelled_stream_read_s: float = DEFAULT_READ_ON_S,
    ) -> None:
        self._invoker = invoker
        self._budgets = budgets
        self._blocking = blocking or BlockingPool(8)
        self._gate = gate
        self._read_on_s = cancelled_stream_read_s
        key_limits = key_limits or KeyLimiter(session_factory, clock)
        self._planner = CallPlanner(
            resolver=resolver,
            prices=prices,
            budgets=budgets,
            sessions=session_factory,
            clock=clock,
            key_limits=key_limits,
            gate=gate,
            unpriced_alerts=UnpricedAlerts(alerts, clock) if alerts is not None else None,
        )
        self._outcomes = OutcomeRecorder(
            sessions=session_factory, clock=clock, budgets=budgets, key_limits=key_limits, blocking=self._blocking
        )

    async def execute(self, call: ExecuteCall) -> ExecuteResult:
        """Gate and plan (one hop to the blocking pool), call the provider (on the loop), record; a
        stream's ``chunks`` is an async iterator of SSE bytes whose end (or ``aclose``) records the
        usage. Raises the gateway errors of the gate (routing/guardrail refusals), of planning
        (budget, unknown model...) and of the provider."""
        call, plan = await self._blocking.run(self._planner.gate_and_plan, call)
        upstream_body = {k: v for k, v in call.body.items() if k not in _GATEWAY_FIELDS}
        # The cap reserved for in planning (same function, same inputs) is exactly the cap sent upstream.
        if call.operation is None:  # an operation (messages, embeddings) sends its own API's body and cap
            upstream_body = with_output_cap(upstream_body, output_cap(call.body, plan.price.max_output_tokens))
        if call.stream:
            return await self._execute_stream(call, plan, upstream_body)
        return await self._execute_once(call, plan, upstream_body)

    async def _execute_once(self, call: ExecuteCall, plan: Plan, body: dict[str, Any]) -> ExecuteResult:
        upstream_started = time.perf_counter()
        served = await self._guarded(
            call, plan, upstream_started, self._invoker.complete(plan.candidates, body, call.operation)
        )
        if served.response is None:  # complete() always carries the response; only streams do not
            raise InternalError("the provider call returned no response")
        upstream_ms = ms_since(upstream_started)
        usage = served.response.usage
        priced = plan.price_of(served.candidate)  # billed as the candidate that served
        cost = cost_of(usage, priced.price)
        outcome = Outcome(priced, usage, cost, "success", None, upstream_ms, served.fallback_from)
        await self._outcomes.record(call, plan, outcome)
        response = served.response.body
        if call.operation is None:  # an operation's response is already in its API's shape
            response["model"] = f"{served.candidate.provider}/{served.candidate.model}"
        headers = self._headers(plan, served.candidate, served.fallback_from)
        screened = call.operation is None or call.operation.kind == "messages"  # not embeddings (vectors)
        if self._gate is not None and screened and self._gate.may_screen_response(call):
            response = await self._blocking.run(self._gate.screen_response, call, response, headers)
        headers["x-tollgate-cost-usd"] = format_usd(cost)
        return ExecuteResult(headers=headers, body=response)

    async def _guarded(self, call: ExecuteCall, plan: Plan, upstream_started: float, invoke: Awaitable[T]) -> T:
        """Await the upstream call; a failure is recorded as a failed usage row (which releases the
        reservations) and surfaces as the documented error (docs/api.md). The reservations are durably marked
        started first (crash safety; grouped on the blocking pool), and a passed deadline charges the call
        (estimated, worst case) and answers 504."""
        if plan.admission.reservations:
            try:
                await self._outcomes.mark_started(plan.admission)  # grouped with other calls' marks
            except BaseException:
                if inspect.iscoroutine(invoke):
                    invoke.close()  # never started: no "never awaited" warning
                raise
        try:
            with bound(call.deadline):
                return await invoke
        except DeadlineExceeded:
            await self._outcomes.record_interrupted(call, plan, upstream_started)
            raise DeadlineReached() from None
        except ProviderCallError as exc:
            await self._outcomes.record_failure(call, plan, exc.kind.value, upstream_started)
            raise to_gateway_error(exc) from None
        except asyncio.CancelledError:
            # Cancelled while the provider may be working (server shutdown): charged like a crash, at once.
            # Should this record be cut too, the started reservation stays for the sweeper to charge.
            await self._outcomes.record_interrupted(call, plan, upstream_started, "upstream_interrupted")
            raise
        except BaseException:
            await self._outcomes.record_failure(call, plan, "internal_error", upstream_started)
            raise

    async def _execute_stream(self, call: ExecuteCall, plan: Plan, body: dict[str, Any]) -> ExecuteResult:
        upstream_started = time.perf_counter()
        body = {**body, "stream_options": {**(body.get("stream_options") or {}), "include_usage": True}}
        opened = await self._guarded(
            call, plan, upstream_started, self._invoker.open_stream(plan.candidates, body, call.operation)
        )
        reader = UpstreamReader(stream_of(opened))
        recording = stream_recording(
            call, plan, opened, reader, upstream_started, outcomes=self._outcomes, read_on_s=self._read_on_s
        )
        recorder = StreamRecorder(recording)
        chunks = relay(call, opened, reader, recorder, screen=functools.partial(self._screened, call))
        try:
            headers = self._headers(plan, opened.candidate, opened.fallback_from)
        except BaseException:
            await recorder.finish("error", "internal_error")
            raise
        return ExecuteResult(headers=headers, chunks=RecordedRelay(chunks, recorder))

    async def _screened(
        self, call: ExecuteCall, stream: AsyncIterator[dict[str, Any]], framing: StreamFraming
    ) -> tuple[AsyncIterator[dict[str, Any]], StreamFraming]:
        """The chunks and framing of a stream under the workspace's response guardrails
        (``tollgate.execution.screen``); unchanged, with no pool hop, when the cached policy says
        responses are not scanned."""
        if self._gate is None or not self._gate.may_screen_response(call):
            return stream, framing
        screen = await self._blocking.run(self._gate.stream_screen, call, self._blocking)
        return (stream, framing) if screen is None else (screen.chunks(stream), screen.framing(framing))

    @staticmethod
    def _headers(plan: Plan, candidate: Candidate, fallback_from: str | None) -> dict[str, str]:
        headers = {
            **plan.headers,
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
