"""Group commit for the execute path's last step: usage rows and budget settlements of calls that
finish at the same time are written in ONE transaction.

Every finished call updates the same few hot rows (its budget counters, its ``usage_daily``
bucket). Written one call per transaction, each commit holds those row locks for a round trip
and a WAL flush and concurrent calls queue behind each other; under a thousand calls in flight
that queue, not the provider, bounds throughput. ``GroupWriter`` keeps at most one write in
flight per event loop: whatever was submitted while it ran goes into the next transaction (so a
lone call is written at once, with no added delay). If a group transaction fails, its items are
written again one by one, so one bad item cannot lose the others.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from tollgate.execution.blocking import BlockingPool
from tollgate.observability import logger

T = TypeVar("T")


@dataclass
class _LoopQueue(Generic[T]):
    pending: list[tuple[T, asyncio.Future[None]]] = field(default_factory=list)
    running: bool = False


class GroupWriter(Generic[T]):
    """``await submit(item)`` returns once ``item`` is committed, or raises what writing it alone
    raised. ``write_many(items)`` must write all items in one transaction (all or nothing);
    ``write_one(item)`` writes one item in its own transaction. Both run on ``blocking``."""

    def __init__(
        self,
        blocking: BlockingPool,
        write_many: Callable[[Sequence[T]], None],
        write_one: Callable[[T], None],
        *,
        max_group: int = 256,
    ) -> None:
        self._blocking = blocking
        self._write_many = write_many
        self._write_one = write_one
        self._max_group = max_group
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue[T]] = weakref.WeakKeyDictionary()

    async def submit(self, item: T) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _LoopQueue()
        done: asyncio.Future[None] = loop.create_future()
        queue.pending.append((item, done))
        if not queue.running:
            queue.running = True
            loop.create_task(self._drain(queue))
        await asyncio.shield(done)  # a cancelled caller's item is still written

    async def _drain(self, queue: _LoopQueue[T]) -> None:
        """Write what is pending, group after group. A write that cannot even run (the pool shut
        down, this task cancelled at shutdown) fails its callers instead of leaving them waiting."""
        group: list[tuple[T, asyncio.Future[None]]] = []
        try:
            while queue.pending:
                group = queue.pending[: self._max_group]
                del queue.pending[: self._max_group]
                try:
                    outcomes = await self._write(group)
                except Exception as exc:
                    logger.exception("could not write a group", extra={"items": len(group)})
                    outcomes = [exc] * len(group)
                _resolve(group, outcomes)
        finally:
            queue.running = False
            stranded = [*group, *queue.pending]  # all resolved already, unless the write was cancelled
            queue.pending.clear()
            _resolve(stranded, [RuntimeError("the write was cancelled")] * len(stranded))

    async def _write(self, group: list[tuple[T, asyncio.Future[None]]]) -> list[BaseException | None]:
        items = [item for item, _ in group]
        if len(items) > 1:
            try:
                await self._blocking.run(self._write_many, items)
                return [None] * len(items)
            except Exception:
                logger.exception("group write failed; writing its items one by one", extra={"items": len(items)})
        return await self._blocking.run(self._each, items)

    def _each(self, items: Sequence[T]) -> list[BaseException | None]:
        outcomes: list[BaseException | None] = []
        for item in items:
            try:
                self._write_one(item)
                outcomes.append(None)
            except Exception as exc:
                outcomes.append(exc)
        return outcomes


def _resolve(group: list[tuple[T, asyncio.Future[None]]], outcomes: Sequence[BaseException | None]) -> None:
    for (_, done), error in zip(group, outcomes, strict=True):
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
