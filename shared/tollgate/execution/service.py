"""The execute path: resolve → price → admit budgets → call provider → meter → record, settle.

The usage row and the budget settlement are written in one transaction, so a call is either
fully accounted or not at all.

``execute`` is a coroutine. The provider call (and a stream's whole life) runs on the event loop;
the short synchronous database steps (``_plan``: resolve, key limits, price, reserve; ``_record``: usage row, key TPM +
settle) run on the bounded ``BlockingPool``, which never waits on a provider.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from tollgate.alerts.queue import AlertQueue
from tollgate.budgets.guard import Admission, BudgetGuard, SpendContext
from tollgate.clock import Clock
from tollgate.db.models import UsageRecord
from tollgate.db.repositories.usage import UsageRepository
from tollgate.db.repositories.workspaces import WorkspaceRepository
from tollgate.errors import BudgetExceeded, InternalError, PermissionDenied, PricingUnavailable, TollgateError
from tollgate.execution.attribution import Attribution
from tollgate.execution.blocking import BlockingPool
from tollgate.execution.deadline import Deadline, DeadlineExceeded, DeadlineReached, bound
from tollgate.execution.gate import Admitted, PolicyGate, record_refusal
from tollgate.execution.operations import CallOperation, StreamFraming
from tollgate.execution.recording import GroupWriter
from tollgate.execution.resolver import Candidate, ModelResolver, parse_model
from tollgate.execution.sse import OpenAIFraming, RecordedRelay, StreamRecorder, as_tollgate
from tollgate.keys.limits import KeyLimiter
from tollgate.metering.output_cap import output_cap, with_output_cap
from tollgate.money import ZERO, format_usd
from tollgate.observability import logger
from tollgate.pricing.book import PriceBook
from tollgate.pricing.calculator import PriceRow, cost_of, worst_case_cost
from tollgate.pricing.tokens import DEFAULT_MAX_OUTPUT_TOKENS, size_request
from tollgate.pricing.unpriced import BLOCK_UNPRICED, PricedAs, UnpricedAlerts, free_price, resolve_price
from tollgate.providers.base import Usage
from tollgate.providers.errors import ProviderCallError, to_gateway_error
from tollgate.providers.invoker import ProviderInvoker

T = TypeVar("T")

# A call cut by its deadline: charged at the reserved worst case, estimated.
INTERRUPTED = "interrupted"
# Body fields that are Tollgate's, not the provider's.
_GATEWAY_FIELDS = ("model", "metadata")
# refusals of planning that leave a ``refused`` usage row (the gate records its own)
_REFUSALS = (BudgetExceeded, PricingUnavailable, PermissionDenied)


@dataclass(frozen=True)
class ExecuteCall:
    workspace_id: uuid.UUID
    key_id: uuid.UUID | None
    request_id: str
    body: dict[str, Any]
    attribution: Attribution
    # None: the workspace's policy, read only when a model turns out to be unpriced.
    unpriced_policy: str | None = None
    # When the invocation must have answered (retries, failover and the upstream read share it).
    deadline: Deadline | None = None
    # Not a chat completion (/v1/messages, /v1/embeddings): the provider-facing steps (operations.py).
    operation: CallOperation | None = None
    # Resolve this model id instead of body["model"] (which stays the requested_model on the usage row).
    resolve_as: str | None = None

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
    estimated: bool = False


@dataclass(frozen=True)
class _Row:
    record: UsageRecord
    admission: Admission
    cost: Decimal
    tokens: int = 0  # every token class of the call, added to its key's TPM window


@dataclass
class _Plan:
    candidates: list[Candidate]
    price: PriceRow
    admission: Admission
    started: float
    downgraded_to: str | None = None
    estimated: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    routing_rule_id: uuid.UUID | None = None


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
        self._gate = gate
        self._key_limits = key_limits or KeyLimiter(session_factory, clock)

    async def execute(self, call: ExecuteCall) -> ExecuteResult:
        """Gate and plan (one hop to the blocking pool), call the provider (on the loop), record; a
        stream's ``chunks`` is an async iterator of SSE bytes whose end (or ``aclose``) records the
        usage. Raises the gateway errors of the gate (routing/guardrail refusals), of planning
        (budget, unknown model...) and of the provider."""
        call, plan = await self._blocking.run(self._gate_and_plan, call)
        upstream_body = {k: v for k, v in call.body.items() if k not in _GATEWAY_FIELDS}
        # The cap reserved for in _admit (same function, same inputs) is exactly the cap sent upstream.
        if call.operation is None:  # an operation (messages, embeddings) sends its own API's body and cap
            upstream_body = with_output_cap(upstream_body, output_cap(call.body, plan.price.max_output_tokens))
        if call.stream:
            return await self._execute_stream(call, plan, upstream_body)
        return await self._execute_once(call, plan, upstream_body)

    # -- planning -----------------------------------------------------------------------------

    def _gate_and_plan(self, call: ExecuteCall) -> tuple[ExecuteCall, _Plan]:
        """Runs on the blocking pool. Routing rules + request guardrails (``tollgate.execution.gate``)
        may refuse the call (its ``refused`` usage row is written here) or redact the forwarded
        body; then resolve, price and reserve."""
        admitted = None
        if self._gate is not None:
            admitted = self._gate.admit(call)
            call = replace(call, body=admitted.body)
        try:
            return call, self._plan(call, admitted)
        except _REFUSALS as refused:
            self._record_refusal(call, admitted, refused)
            raise

    def _record_refusal(self, call: ExecuteCall, admitted: Admitted | None, refused: TollgateError) -> None:
        """The ``refused`` row of a call planning refused (budget 402, unpriced 409, model 403);
        a failure to write it is logged and the refusal still answered."""
        ref = parse_model(call.requested_model or "?")
        rule_id = admitted.routing_rule_id if admitted is not None else None
        try:
            record_refusal(
                self._sessions,
                self._clock,
                call,
                provider=ref.provider or "",
                model=ref.model,
                error_type=refused.code,
                rule_id=rule_id,
            )
        except Exception:
            logger.exception("could not record a refused call")

    def _plan(self, call: ExecuteCall, admitted: Admitted | None = None) -> _Plan:
        started = time.perf_counter()
        routing = admitted.routing if admitted is not None else None
        if routing is not None:  # a routing rule chose the candidates
            candidates = routing.candidates
        else:
            candidates = self._resolver.resolve(call.workspace_id, call.resolve_as or call.requested_model)
        candidates = self._key_limits.admit(call.key_id, candidates, lambda c: self._worst_case_usd(call, c))
        priced = self._price_for(candidates[0], call)
        # the reservation covers the dearest candidate a rule may fail over to
        reserve = routing.reserve_price if routing is not None and routing.reserve_price else priced.price
        admission = self._admit(call, candidates[0], reserve, allow_downgrade=True)
        downgraded_to = None
        if admission.downgrade_model:
            downgraded_to = admission.downgrade_model
            candidates = self._resolver.resolve(call.workspace_id, downgraded_to)
            candidates = self._key_limits.allowed(call.key_id, candidates)
            priced = self._price_for(candidates[0], call)
            admission = self._admit(call, candidates[0], priced.price, allow_downgrade=False)
        return _Plan(
            candidates,
            priced.price,
            admission,
            started,
            downgraded_to,
            estimated=priced.estimated,
            headers=dict(admitted.headers) if admitted is not None else {},
            routing_rule_id=admitted.routing_rule_id if admitted is not None else None,
        )

    def _price_for(self, candidate: Candidate, call: ExecuteCall) -> PricedAs:
        provider, model = candidate.provider, candidate.model
        if candidate.target.free:  # a free custom credential: an explicit zero, source "free"
            return PricedAs(free_price(provider, model), estimated=False)
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

    def _worst_case_usd(self, call: ExecuteCall, candidate: Candidate, price: PriceRow | None = None) -> Decimal:
        """What budgets reserve for ``candidate``: the prompt estimate plus the output cap (``_size``)."""
        price = price or self._price_for(candidate, call).price
        prompt, output = self._size(call, candidate, price)
        return worst_case_cost(prompt, output, price)

    @staticmethod
    def _size(call: ExecuteCall, candidate: Candidate, price: PriceRow) -> tuple[int, int]:
        """(prompt tokens, output cap) a call is reserved for: the operation's own estimate for
        /v1/messages and /v1/embeddings, else the one request estimator (``pricing.tokens.size_request``)."""
        if call.operation is not None:
            max_out = call.operation.max_output_tokens()
            if not isinstance(max_out, int):
                max_out = price.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS
            return call.operation.prompt_tokens(candidate), max_out
        size = size_request(candidate.provider, candidate.model, call.body, price.max_output_tokens)
        return size.prompt_tokens, size.output_tokens

    def _admit(self, call: ExecuteCall, candidate: Candidate, price: PriceRow, *, allow_downgrade: bool) -> Admission:
        prompt_tokens, output_tokens = self._size(call, candidate, price)
        worst = worst_case_cost(prompt_tokens, output_tokens, price)
        context = SpendContext(
            workspace_id=call.workspace_id,
            key_id=call.key_id,
            provider=candidate.provider,
            model=candidate.model,
            workflow=call.attribution.workflow,
            agent=call.attribution.agent,
            request_id=call.request_id,
            user=call.attribution.user,
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
        )
        return self._budgets.admit(context, worst, allow_downgrade=allow_downgrade)

    # -- non-streaming ------------------------------------------------------------------------

    async def _execute_once(self, call: ExecuteCall, plan: _Plan, body: dict[str, Any]) -> ExecuteResult:
        upstream_started = time.perf_counter()
        served = await self._guarded(
            call, plan, upstream_started, self._invoker.complete(plan.candidates, body, call.operation)
        )
        if served.response is None:  # complete() always carries the response; only streams do not
            raise InternalError("the provider call returned no response")
        upstream_ms = _ms_since(upstream_started)
        usage = served.response.usage
        price = await self._served_price(served.candidate, plan, call)
        cost = cost_of(usage, price)
        outcome = _Outcome(served.candidate, usage, cost, price, "success", None, upstream_ms, served.fallback_from)
        await self._record(call, plan, outcome)
        response = served.response.body
        if call.operation is None:  # an operation's response is already in its API's shape
            response["model"] = f"{served.candidate.provider}/{served.candidate.model}"
        headers = self._headers(call, plan, served.candidate, served.fallback_from)
        if self._gate is not None and call.operation is None and self._gate.may_screen_response(call):
            response = await self._blocking.run(self._gate.screen_response, call, response, headers)
        headers["x-tollgate-cost-usd"] = format_usd(cost)
        return ExecuteResult(headers=headers, body=response)

    async def _guarded(self, call: ExecuteCall, plan: _Plan, upstream_started: float, invoke: Awaitable[T]) -> T:
        """Await the upstream call; a failure is recorded as a failed usage row (which releases the
        reservations) and surfaces as the documented error (docs/api.md). The reservations are durably marked
        started first (crash safety; on the blocking pool), and a passed deadline charges the call
        (estimated, worst case) and answers 504."""
        if plan.admission.reservations:
            try:
                await self._blocking.run(self._budgets.mark_started, plan.admission)
            except BaseException:
                if inspect.iscoroutine(invoke):
                    invoke.close()  # never started: no "never awaited" warning
                raise
        try:
            with bound(call.deadline):
                return await invoke
        except DeadlineExceeded:
            await self._record_interrupted(call, plan, upstream_started)
            raise DeadlineReached() from None
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
        opened = await self._guarded(
            call, plan, upstream_started, self._invoker.open_stream(plan.candidates, body, call.operation)
        )
        recorder = StreamRecorder(self._stream_recording(call, plan, opened, upstream_started))
        relay = self._relay(call, plan, opened, recorder)
        try:
            headers = self._headers(call, plan, opened.candidate, opened.fallback_from)
        except BaseException:
            await recorder.finish("error", "internal_error")
            raise
        return ExecuteResult(headers=headers, chunks=RecordedRelay(relay, recorder))

    async def _relay(
        self, call: ExecuteCall, plan: _Plan, opened: Any, recorder: StreamRecorder
    ) -> AsyncGenerator[bytes, None]:
        """Relay chunks in the call's framing (``OpenAIFraming`` for chat completions, the
        operation's otherwise). The usage row is written before the closing events (the usage chunk,
        only when the client asked ``stream_options.include_usage``, and ``[DONE]``; or Anthropic's
        ``message_delta``/``message_stop``) go out, so a client that has read the whole stream can
        already see its usage. Closing the relay (client gone) or cancelling its task records what
        was produced as ``cancelled``."""
        stream = opened.stream
        framing = _framing_for(call, opened.candidate)
        try:
            async for chunk in stream:
                for data in framing.chunk(chunk):
                    yield data
            await recorder.finish("success", None)
            for data in framing.finish(stream.usage):
                yield data
        except (GeneratorExit, asyncio.CancelledError):
            await recorder.finish("cancelled", "client_disconnected")
            raise
        except DeadlineExceeded:
            await recorder.finish(INTERRUPTED, "deadline_exceeded")
            for data in framing.error(DeadlineReached(), call.request_id):
                yield data
        except ProviderCallError as exc:
            await recorder.finish("error", exc.kind.value)
            for data in framing.error(as_tollgate(to_gateway_error(exc)), call.request_id):
                yield data
        except Exception:
            logger.exception("stream relay failed")
            await recorder.finish("error", "internal_error")
            failure = InternalError("The stream failed; see logs for this request id")
            for data in framing.error(failure, call.request_id):
                yield data
        finally:
            await recorder.finish("cancelled", "client_disconnected")

    # -- accounting ---------------------------------------------------------------------------

    def _price_for_served(self, candidate: Candidate, plan: _Plan, call: ExecuteCall) -> PriceRow:
        if candidate is plan.candidates[0]:
            return plan.price
        if candidate.target.free:
            return free_price(candidate.provider, candidate.model)
        return self._prices.current(candidate.provider, candidate.model, call.workspace_id) or plan.price

    async def _served_price(self, candidate: Candidate, plan: _Plan, call: ExecuteCall) -> PriceRow:
        if candidate is plan.candidates[0]:
            return plan.price
        return await self._blocking.run(self._price_for_served, candidate, plan, call)

    async def _record(self, call: ExecuteCall, plan: _Plan, outcome: _Outcome) -> None:
        """Write the usage row and settle the reservations, grouped into one transaction with
        other calls finishing at the same time (``GroupWriter``); raises what writing it raised."""
        row = _Row(self._usage_row(call, plan, outcome), plan.admission, outcome.cost, outcome.usage.total_tokens)
        await self._writer.submit(row)

    async def _record_or_release(self, call: ExecuteCall, plan: _Plan, outcome: _Outcome) -> None:
        """Record the call (group-committed). If that fails the reservations stay: the upstream call
        started, so the sweeper charges them (estimated) once they expire rather than lose the call
        from spend. (The name is kept from when a failed write released them.)"""
        try:
            await self._record(call, plan, outcome)
        except Exception:
            logger.exception("could not record a call; the sweeper will charge it", extra={"stream": call.stream})

    def _write_one(self, row: _Row) -> None:
        self._write_rows([row])

    def _write_rows(self, rows: Sequence[_Row]) -> None:
        """Usage rows and settlements of several calls in ONE transaction (all or nothing)."""
        with self._sessions.begin() as session:
            UsageRepository(session).add_many([row.record for row in rows])
            self._budgets.settle_many(session, [(row.admission, row.cost) for row in rows])
            for row in rows:
                self._key_limits.count_tokens(session, row.record.key_id, row.tokens)

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
            estimated=outcome.estimated or (plan.estimated and outcome.price is plan.price) or usage.estimated,
            latency_ms=_ms_since(plan.started),
            upstream_ms=outcome.upstream_ms,
            stream=call.stream,
            fallback_from=outcome.fallback_from,
            routing_rule_id=plan.routing_rule_id,
            created_at=self._clock.now(),
        )

    async def _record_failure(self, call: ExecuteCall, plan: _Plan, error_type: str, upstream_started: float) -> None:
        await self._record_or_release(call, plan, self._failure(plan, error_type, upstream_started))

    async def _record_interrupted(self, call: ExecuteCall, plan: _Plan, upstream_started: float) -> None:
        """The deadline passed mid-call: charge the reserved worst case as an estimated row."""
        outcome = _Outcome(
            plan.candidates[0],
            Usage(),
            plan.admission.worst_case_usd or ZERO,
            plan.price,
            INTERRUPTED,
            "deadline_exceeded",
            _ms_since(upstream_started),
            None,
            estimated=True,
        )
        await self._record_or_release(call, plan, outcome)

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
            cut = status == INTERRUPTED  # deadline: what was produced is unknown, charge the worst case
            outcome = _Outcome(
                opened.candidate,
                usage,
                (plan.admission.worst_case_usd or ZERO) if cut else cost_of(usage, price),
                price,
                status,
                error_type,
                _ms_since(upstream_started),
                opened.fallback_from,
                estimated=cut,
            )
            await self._record_or_release(call, plan, outcome)

        return record

    def _headers(
        self, call: ExecuteCall, plan: _Plan, candidate: Candidate, fallback_from: str | None
    ) -> dict[str, str]:
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


def _framing_for(call: ExecuteCall, candidate: Candidate) -> StreamFraming:
    """How a streamed answer is written: the operation's framing, else OpenAI's chat chunks."""
    if call.operation is not None:
        return call.operation.framing(candidate, call.request_id)
    public_model = f"{candidate.provider}/{candidate.model}"
    return OpenAIFraming(public_model, call.request_id, include_usage=_wants_usage(call.body))


def _wants_usage(body: dict[str, Any]) -> bool:
    """``stream_options.include_usage`` as the client sent it (upstream always gets it, for metering)."""
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
