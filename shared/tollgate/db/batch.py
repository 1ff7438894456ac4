"""Group work that many threads submit at the same time into one database transaction.

Every call on the execute path reserves on the same budget counter rows. Done one transaction
per call, each holds the hot row lock for several
round trips (BEGIN, statements, COMMIT) and the calls queue behind each other. ``Batcher`` is a
leader/follower group commit for the synchronous threads of the ``BlockingPool``: a thread that
submits while no batch runs becomes the leader and runs ``run_many`` on everything queued; threads
that submit meanwhile wait, and the first of them leads the next batch with whatever queued up
behind it. A lone submitter runs at once (no added delay, no timer).

``run_many(items)`` returns one outcome per item, in order: a value, or an exception instance
that is raised in that item's thread only. If ``run_many`` itself raises, each item of the batch
is run alone through ``run_one`` so that one bad item cannot fail the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    """One submitted item. ``done`` is a plain lock taken at creation: the waiting thread blocks on
    acquiring it and the leader releases it (the cheapest cross-thread wake-up; an ``Event`` is a
    ``Condition`` plus a lock, allocated per item)."""

    __slots__ = ("done", "error", "item", "lead", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = threading.Lock()
        self.done.acquire()
        self.lead = False
        self.result: R | None = None
        self.error: BaseException | None = None


class Batcher(Generic[T, R]):
    """``submit(item)`` blocks until the batch holding ``item`` ran and returns its outcome
    (or raises it). ``max_batch`` bounds one transaction's size."""

    def __init__(
        self,
        run_many: Callable[[Sequence[T]], Sequence[R | BaseException]],
        run_one: Callable[[T], R],
        *,
        max_batch: int = 256,
    ) -> None:
        if max_batch < 1:
            raise ValueError("a batch holds at least one item")
        self._run_many = run_many
        self._run_one = run_one
        self._max = max_batch
        self._lock = threading.Lock()
        self._pending: list[_Slot[T, R]] = []
        self._busy = False
        self.batches = 0  # how many transactions ran (observability and tests)
        self.largest = 0

    def submit(self, item: T) -> R:
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._pending.append(slot)
            lead = not self._busy
            self._busy = True
        if not lead:
            slot.done.acquire()  # released once: by the leader that ran this item, or to lead
            if not slot.lead:
                return self._outcome(slot)
        self._lead()
        return self._outcome(slot)

    def _lead(self) -> None:
        with self._lock:
            batch = self._pending[: self._max]
            del self._pending[: self._max]
            self.batches += 1
            self.largest = max(self.largest, len(batch))
        try:
            self._run(batch)
        finally:
            with self._lock:
                if self._pending:  # hand the lead to the oldest waiter; it runs what queued up
                    successor = self._pending[0]
                    successor.lead = True
                    successor.done.release()
                else:
                    self._busy = False

    def _run(self, batch: list[_Slot[T, R]]) -> None:
        outcomes: Sequence[R | BaseException] | None = None
        try:
            try:
                outcomes = self._run_many([slot.item for slot in batch]) if len(batch) > 1 else None
            except Exception:
                outcomes = None
            if outcomes is None or len(outcomes) != len(batch):
                outcomes = [self._alone(slot.item) for slot in batch]
        except BaseException as exc:  # never leave a waiter hanging
            outcomes = [exc] * len(batch)
            raise
        finally:
            self._deliver(batch, outcomes or [])

    @staticmethod
    def _deliver(batch: list[_Slot[T, R]], outcomes: Sequence[R | BaseException]) -> None:
        for slot, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                slot.error = outcome
            else:
                slot.result = outcome
            slot.lead = False
            slot.done.release()

    def _alone(self, item: T) -> R | BaseException:
        try:
            return self._run_one(item)
        except Exception as exc:
            return exc

    @staticmethod
    def _outcome(slot: _Slot[T, R]) -> R:
        if slot.error is not None:
            raise slot.error
        return slot.result  # type: ignore[return-value]
