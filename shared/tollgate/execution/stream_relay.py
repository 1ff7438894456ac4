"""A streamed call after its stream opened: relaying the chunks to the client in the call's framing,
and recording its usage row exactly once, however the stream ends (finished, failed, cut by the
deadline, or the client gone)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from tollgate.errors import InternalError
from tollgate.execution.call import ExecuteCall
from tollgate.execution.deadline import DeadlineExceeded, DeadlineReached
from tollgate.execution.operations import StreamFraming
from tollgate.execution.outcomes import INTERRUPTED, Outcome, OutcomeRecorder, ms_since
from tollgate.execution.planning import Plan
from tollgate.execution.resolver import Candidate
from tollgate.execution.sse import OpenAIFraming, StreamRecorder, as_tollgate
from tollgate.money import ZERO
from tollgate.observability import logger
from tollgate.pricing.calculator import cost_of
from tollgate.providers.base import Usage
from tollgate.providers.errors import ProviderCallError, to_gateway_error
from tollgate.providers.invoker import OpenedStream


async def relay(
    call: ExecuteCall, plan: Plan, opened: OpenedStream, recorder: StreamRecorder
) -> AsyncGenerator[bytes, None]:
    """Relay chunks in the call's framing (``OpenAIFraming`` for chat completions, the
    operation's otherwise). The usage row is written before the closing events (the usage chunk,
    only when the client asked ``stream_options.include_usage``, and ``[DONE]``; or Anthropic's
    ``message_delta``/``message_stop``) go out, so a client that has read the whole stream can
    already see its usage. Closing the relay (client gone) or cancelling its task records the call
    as ``cancelled``."""
    stream = opened.stream
    assert stream is not None  # open_stream always carries the stream
    framing = framing_for(call, opened.candidate)
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


def stream_recording(
    call: ExecuteCall,
    plan: Plan,
    opened: OpenedStream,
    upstream_started: float,
    *,
    outcomes: OutcomeRecorder,
) -> Callable[[str, str | None], Awaitable[None]]:
    """How a streamed call's usage is recorded once it ends with ``status`` (what was produced so
    far), billed as the candidate that served."""
    priced = plan.price_of(opened.candidate)

    async def record(status: str, error_type: str | None) -> None:
        stream = opened.stream
        assert stream is not None
        try:
            await stream.aclose()
        except Exception:
            logger.exception("could not close an upstream stream")
        usage: Usage = stream.usage
        cut = status == INTERRUPTED  # deadline: what was produced is unknown, charge the worst case
        outcome = Outcome(
            priced,
            usage,
            (plan.admission.worst_case_usd or ZERO) if cut else cost_of(usage, priced.price),
            status,
            error_type,
            ms_since(upstream_started),
            opened.fallback_from,
            estimated=cut,
        )
        await outcomes.record_or_leave_to_sweeper(call, plan, outcome)

    return record


def framing_for(call: ExecuteCall, candidate: Candidate) -> StreamFraming:
    """How a streamed answer is written: the operation's framing, else OpenAI's chat chunks."""
    if call.operation is not None:
        return call.operation.framing(candidate, call.request_id)
    public_model = f"{candidate.provider}/{candidate.model}"
    return OpenAIFraming(public_model, call.request_id, include_usage=wants_usage(call.body))


def wants_usage(body: dict[str, Any]) -> bool:
    """``stream_options.include_usage`` as the client sent it (upstream always gets it, for metering)."""
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True
