"""The execute path: resolve → price → admit budgets → call provider → meter → record, settle.

The usage row and the budget settlement are written in one transaction, so a call is either
fully accounted or not at all.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tollgate.budgets.guard import Admission, BudgetGuard, SpendContext
from tollgate.clock import Clock
from tollgate.db.models import UsageRecord
from tollgate.db.repositories.usage import UsageRepository
from tollgate.errors import PricingUnavailable, TollgateError
from tollgate.execution.attribution import Attribution
from tollgate.execution.resolver import Candidate, ModelResolver
from tollgate.money import ZERO, format_usd
from tollgate.observability import logger
from tollgate.pricing.book import PriceBook
from tollgate.pricing.calculator import PriceRow, cost_of, worst_case_cost
from tollgate.pricing.tokens import DEFAULT_MAX_OUTPUT_TOKENS, estimate_prompt_tokens
from tollgate.providers.base import Usage
from tollgate.providers.errors import ProviderCallError, to_gateway_error
from tollgate.providers.invoker import ProviderInvoker

# Body fields that are Tollgate's, not the provider's.
_GATEWAY_FIELDS = ("model", "metadata")


@dataclass(frozen=True)
class ExecuteCall:
    workspace_id: uuid.UUID
    key_id: uuid.UUID | None
    request_id: str
    body: dict[str, Any]
    attribution: Attribution
    unpriced_policy: str = "block_unpriced"

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
    chunks: Iterator[bytes] | None = None


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


@dataclass
class _Plan:
    candidates: list[Candidate]
    price: PriceRow
    admission: Admission
    started: float
    downgraded_to: str | None = None
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
    ) -> None:
        self._resolver = resolver
        self._invoker = invoker
        self._prices = prices
        self._budgets = budgets
        self._sessions = session_factory
        self._clock = clock

    def execute(self, call: ExecuteCall) -> ExecuteResult:
        plan = self._plan(call)
        upstream_body = {k: v for k, v in call.body.items() if k not in _GATEWAY_FIELDS}
        if call.stream:
            return self._execute_stream(call, plan, upstream_body)
        return self._execute_once(call, plan, upstream_body)

    # -- planning -----------------------------------------------------------------------------

    def _plan(self, call: ExecuteCall) -> _Plan:
        started = time.perf_counter()
        candidates = self._resolver.resolve(call.workspace_id, call.requested_model)
        price = self._price_for(candidates[0], call)
        admission = self._admit(call, candidates[0], price, allow_downgrade=True)
        downgraded_to = None
        if admission.downgrade_model:
            downgraded_to = admission.downgrade_model
            candidates = self._resolver.resolve(call.workspace_id, downgraded_to)
            price = self._price_for(candidates[0], call)
            admission = self._admit(call, candidates[0], price, allow_downgrade=False)
        return _Plan(candidates, price, admission, started, downgraded_to)

    def _price_for(self, candidate: Candidate, call: ExecuteCall) -> PriceRow:
        price = self._prices.current(candidate.provider, candidate.model)
        if price is None:
            raise PricingUnavailable(
                f"No price is known for {candidate.provider}/{candidate.model}; add one with "
                f"PUT /v1/pricing/{candidate.provider}/{candidate.model} or change the workspace policy"
            )
        return price

    def _admit(self, call: ExecuteCall, candidate: Candidate, price: PriceRow, *, allow_downgrade: bool) -> Admission:
        messages = list(call.body.get("messages") or [])
        prompt = estimate_prompt_tokens(candidate.provider, candidate.model, messages)
        max_out = call.body.get("max_completion_tokens") or call.body.get("max_tokens")
        if not isinstance(max_out, int):
            max_out = price.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS
        worst = worst_case_cost(prompt, max_out, price)
        context = SpendContext(
            workspace_id=call.workspace_id,
            key_id=call.key_id,
            provider=candidate.provider,
            model=candidate.model,
            workflow=call.attribution.workflow,
            agent=call.attribution.agent,
            request_id=call.request_id,
        )
        return self._budgets.admit(context, worst, allow_downgrade=allow_downgrade)

    # -- non-streaming ------------------------------------------------------------------------

    def _execute_once(self, call: ExecuteCall, plan: _Plan, body: dict[str, Any]) -> ExecuteResult:
        upstream_started = time.perf_counter()
        try:
            served = self._invoker.complete(plan.candidates, body)
        except ProviderCallError as exc:
            self._record_failure(call, plan, exc.kind.value, upstream_started)
            raise to_gateway_error(exc) from None
        except BaseException:
            self._record_failure(call, plan, "internal_error", upstream_started)
            raise
        assert served.response is not None
        upstream_ms = _ms_since(upstream_started)
        usage = served.response.usage
        price = self._price_for_served(served.candidate, plan, call)
        cost = cost_of(usage, price)
        self._record(
            call,
            plan,
            _Outcome(served.candidate, usage, cost, price, "success", None, upstream_ms, served.fallback_from),
        )
        response = served.response.body
        response["model"] = f"{served.candidate.provider}/{served.candidate.model}"
        headers = self._headers(call, plan, served.candidate, served.fallback_from)
        headers["x-tollgate-cost-usd"] = format_usd(cost)
        return ExecuteResult(headers=headers, body=response)

    # -- streaming ----------------------------------------------------------------------------

    def _execute_stream(self, call: ExecuteCall, plan: _Plan, body: dict[str, Any]) -> ExecuteResult:
        upstream_started = time.perf_counter()
        body = {**body, "stream_options": {**(body.get("stream_options") or {}), "include_usage": True}}
        try:
            opened = self._invoker.open_stream(plan.candidates, body)
        except ProviderCallError as exc:
            self._record_failure(call, plan, exc.kind.value, upstream_started)
            raise to_gateway_error(exc) from None
        except BaseException:
            self._record_failure(call, plan, "internal_error", upstream_started)
            raise
        headers = self._headers(call, plan, opened.candidate, opened.fallback_from)
        return ExecuteResult(headers=headers, chunks=self._relay(call, plan, opened, upstream_started))

    def _relay(self, call: ExecuteCall, plan: _Plan, opened: Any, upstream_started: float) -> Iterator[bytes]:
        stream = opened.stream
        candidate: Candidate = opened.candidate
        public_model = f"{candidate.provider}/{candidate.model}"
        status, error_type = "success", None
        recorded = False
        last: dict[str, Any] = {}

        def record() -> None:
            nonlocal recorded
            if recorded:
                return
            recorded = True
            stream.close()
            usage: Usage = stream.usage
            price = self._price_for_served(candidate, plan, call)
            outcome = _Outcome(
                candidate,
                usage,
                cost_of(usage, price),
                price,
                status,
                error_type,
                _ms_since(upstream_started),
                opened.fallback_from,
            )
            self._record(call, plan, outcome)

        try:
            for chunk in stream:
                chunk["model"] = public_model
                last = chunk
                yield _sse(chunk)
            final = {
                "id": last.get("id", call.request_id),
                "object": "chat.completion.chunk",
                "created": last.get("created", int(time.time())),
                "model": public_model,
                "choices": [],
                "usage": stream.usage.to_openai(),
            }
            record()  # before [DONE], so a client that saw the end also sees its usage row
            yield _sse(final)
            yield b"data: [DONE]\n\n"
        except GeneratorExit:
            status, error_type = "cancelled", "client_disconnected"
            raise
        except ProviderCallError as exc:
            status, error_type = "error", exc.kind.value
            gateway_error = to_gateway_error(exc)
            message = gateway_error.message if isinstance(gateway_error, TollgateError) else "upstream failed"
            yield _sse(
                {
                    "error": {
                        "type": "provider_unavailable",
                        "code": error_type,
                        "message": message,
                        "request_id": call.request_id,
                    }
                }
            )
        except Exception:
            status, error_type = "error", "internal_error"
            logger.exception("stream relay failed")
            yield _sse(
                {
                    "error": {
                        "type": "internal_error",
                        "code": "internal_error",
                        "message": "stream failed",
                        "request_id": call.request_id,
                    }
                }
            )
        finally:
            record()

    # -- accounting ---------------------------------------------------------------------------

    def _price_for_served(self, candidate: Candidate, plan: _Plan, call: ExecuteCall) -> PriceRow:
        if candidate is plan.candidates[0]:
            return plan.price
        return self._prices.current(candidate.provider, candidate.model) or plan.price

    def _record(self, call: ExecuteCall, plan: _Plan, outcome: _Outcome) -> None:
        candidate, usage = outcome.candidate, outcome.usage
        record = UsageRecord(
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
            estimated=False,
            latency_ms=_ms_since(plan.started),
            upstream_ms=outcome.upstream_ms,
            stream=call.stream,
            fallback_from=outcome.fallback_from,
            created_at=self._clock.now(),
        )
        with self._sessions.begin() as session:
            UsageRepository(session).add(record)
            self._budgets.settle(session, plan.admission, outcome.cost)

    def _record_failure(self, call: ExecuteCall, plan: _Plan, error_type: str, upstream_started: float) -> None:
        try:
            outcome = _Outcome(
                plan.candidates[0], Usage(), ZERO, plan.price, "error", error_type, _ms_since(upstream_started), None
            )
            self._record(call, plan, outcome)
        except Exception:
            logger.exception("could not record a failed call")
            self._budgets.release(plan.admission)

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


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
