"""A streamed call after its stream opened: relaying the chunks to the client in the call's framing,
and recording its usage row exactly once, however the stream ends (finished, failed, cut by the
deadline, or the client gone).

What a cancelled stream costs (docs/pricing.md): the provider bills the whole generation even when
the client leaves, so a stream cut by the client (or by a failure of the gateway's own, such as a
guardrail policy that cannot be read) is read on, without relaying, to the provider's
own final usage (OpenAI-compatible ``stream_options.include_usage`` chunk, Anthropic's
``message_delta``, Gemini's and Yandex's last cumulative counts), for at most ``read_on_s`` and
never past the call's deadline, and billed from it. When that cannot be had (the read-on times out
or fails, or the provider sent no usable report), the call is charged the served candidate's
reserved worst case, flagged ``estimated``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
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
from tollgate.providers.base import ChatStream, Usage
from tollgate.providers.errors import ProviderCallError, to_gateway_error
from tollgate.providers.invoker import OpenedStream

CANCELLED = "cancelled"
# How long a stream the client left is read on for the provider's final usage (seconds).
DEFAULT_READ_ON_S = 120.0


@dataclass(frozen=True)
class _End:
    error: BaseException | None = None


class UpstreamReader:
    """An opened stream's chunks, read in a task of their own one chunk ahead of the relay.

    The relay waits on a queue, not on the upstream read: when the client leaves and the relay's
    task is cancelled, the read in flight is not (a cancelled httpx read would drop the connection),
    so ``read_to_end`` can go on to the provider's final usage. Costs one queue hand-off per chunk
    (a few microseconds). Failures of the upstream read are raised to the reader unchanged.
    """

    def __init__(self, stream: ChatStream) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[dict[str, Any] | _End] = asyncio.Queue(maxsize=1)
        self._pump: asyncio.Task[None] | None = None
        self._ended = False
        self._failed = False

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self._ended:
            raise StopAsyncIteration
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(self._read())
        item = await self._queue.get()
        if isinstance(item, _End):
            self._ended = True
            if item.error is not None:
                self._failed = True
                raise item.error
            raise StopAsyncIteration
        return item

    async def _read(self) -> None:
        try:
            async for chunk in self._stream:
                await self._queue.put(chunk)
        except Exception as exc:  # handed to the relay, which records and frames it
            await self._queue.put(_End(exc))
        else:
            await self._queue.put(_End())

    async def read_to_end(self, timeout_s: float) -> bool:
        """Read (and drop) the rest of the stream for at most ``timeout_s``; True when it ended
        normally (so its ``usage`` is final), False on a timeout or an upstream failure."""
        try:
            async with asyncio.timeout(max(timeout_s, 0.0)):
                async for _ in self:
                    pass
        except TimeoutError:
            logger.warning("a cancelled stream did not reach its usage in time", extra={"read_on_s": timeout_s})
            return False
        except Exception as exc:
            logger.warning("a cancelled stream failed before its usage", extra={"error": type(exc).__name__})
            return False
        return not self._failed

    async def aclose(self) -> None:
        """Stop reading and release the upstream connection (idempotent)."""
        self._ended = True
        pump, self._pump = self._pump, None
        if pump is not None and not pump.done():
            pump.cancel()
            await asyncio.wait([pump])
        try:
            await self._stream.aclose()
        except Exception:
            logger.exception("could not close an upstream stream")


# Wraps a stream's chunks and framing in the response guardrails (``ExecuteService._screened``).
Screen = Callable[
    [AsyncIterator[dict[str, Any]], StreamFraming],
    Awaitable[tuple[AsyncIterator[dict[str, Any]], StreamFraming]],
]


async def relay(
    call: ExecuteCall,
    opened: OpenedStream,
    reader: UpstreamReader,
    recorder: StreamRecorder,
    *,
    screen: Screen | None = None,
) -> AsyncGenerator[bytes, None]:
    """Relay chunks in the call's framing (``OpenAIFraming`` for chat completions, the
    operation's otherwise); the events of one framing step go out as one body message (one write
    to the client, not one per event). The usage row is written before the closing events (the
    usage chunk, only when the client asked ``stream_options.include_usage``, and ``[DONE]``; or
    Anthropic's ``message_delta``/``message_stop``) go out, so a client that has read the whole
    stream can already see its usage. Closing the relay (client gone) or cancelling its task records the call
    as ``cancelled``. ``screen``, when given, wraps the chunks and framing in the workspace's
    response guardrails before the first chunk goes out."""
    framing = framing_for(call, opened.candidate)
    try:
        chunks: AsyncIterator[dict[str, Any]] = reader
        if screen is not None:  # response guardrails, screened in flight (docs/guardrails.md)
            chunks, framing = await screen(reader, framing)
        async for chunk in chunks:
            if data := b"".join(framing.chunk(chunk)):
                yield data
        await recorder.finish("success", None)
        if data := b"".join(framing.finish(stream_of(opened).usage)):
            yield data
    except (GeneratorExit, asyncio.CancelledError):
        await recorder.finish(CANCELLED, "client_disconnected")
        raise
    except DeadlineExceeded:
        await recorder.finish(INTERRUPTED, "deadline_exceeded")
        if data := b"".join(framing.error(DeadlineReached(), call.request_id)):
            yield data
    except ProviderCallError as exc:
        await recorder.finish("error", exc.kind.value)
        if data := b"".join(framing.error(as_tollgate(to_gateway_error(exc)), call.request_id)):
            yield data
    except Exception:
        logger.exception("stream relay failed")
        await recorder.finish("error", "internal_error")
        failure = InternalError("The stream failed; see logs for this request id")
        if data := b"".join(framing.error(failure, call.request_id)):
            yield data
    finally:
        await recorder.finish(CANCELLED, "client_disconnected")


def stream_recording(
    call: ExecuteCall,
    plan: Plan,
    opened: OpenedStream,
    reader: UpstreamReader,
    upstream_started: float,
    *,
    outcomes: OutcomeRecorder,
    read_on_s: float = DEFAULT_READ_ON_S,
) -> Callable[[str, str | None], Awaitable[None]]:
    """How a streamed call's usage is recorded once it ends with ``status``: billed from the
    stream's usage at the served candidate's price; cut by the deadline, the reserved worst case
    (estimated); cancelled by the client, read on to the provider's usage first (module docstring)."""
    priced = plan.price_of(opened.candidate)

    async def record(status: str, error_type: str | None) -> None:
        final = stopped = False
        left_early = _left_before_the_end(status, error_type)
        if left_early:
            try:
                final = await reader.read_to_end(_read_on_budget(call, read_on_s))
            except asyncio.CancelledError:  # shutting down while reading on: charge the reservation now
                stopped = True
        await reader.aclose()
        usage: Usage = stream_of(opened).usage
        cost = cost_of(usage, priced.price)
        estimated = False
        if status == INTERRUPTED:  # deadline: what was produced is unknown, charge the worst case
            cost, estimated = plan.admission.worst_case_usd or ZERO, True
        elif left_early and (not final or usage.estimated):
            # what the provider bills is unknown: the served candidate's reserved worst case
            usage = Usage(input_tokens=priced.prompt_tokens, output_tokens=priced.output_tokens, estimated=True)
            cost, estimated = priced.worst_case_usd, True
        outcome = Outcome(
            priced, usage, cost, status, error_type, ms_since(upstream_started), opened.fallback_from, estimated
        )
        await outcomes.record_or_leave_to_sweeper(call, plan, outcome)
        if stopped:
            raise asyncio.CancelledError()

    return record


def _left_before_the_end(status: str, error_type: str | None) -> bool:
    """True when the relay stopped for a reason of ours, not the provider's: the client left, or
    the gateway failed (``internal_error``, e.g. the response guardrail policy could not be read
    before the first chunk). The provider goes on generating and bills the whole answer either
    way, so the stream is read on to its usage like a cancelled one."""
    return status == CANCELLED or (status == "error" and error_type == "internal_error")


def _read_on_budget(call: ExecuteCall, read_on_s: float) -> float:
    """``read_on_s``, never past the call's deadline."""
    return read_on_s if call.deadline is None else min(read_on_s, call.deadline.remaining_s())


def stream_of(opened: OpenedStream) -> ChatStream:
    if opened.stream is None:  # open_stream always carries the stream
        raise InternalError("the provider call opened no stream")
    return opened.stream


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
