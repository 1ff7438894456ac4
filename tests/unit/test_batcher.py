"""Batcher: threads that submit while a batch runs share the next one; outcomes go to their own
thread; a failed batch is retried item by item."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pytest

from tollgate.db.batch import Batcher


class Ledger:
    """A stand-in for a transaction: a batch is all or nothing, 13 is refused, negatives are
    refused per item (an outcome, not a failed batch)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.alone: list[int] = []
        self.first_started = threading.Event()
        self.release_first = threading.Event()

    def many(self, items: Sequence[int]) -> list[int | BaseException]:
        if 13 in items:
            raise RuntimeError("the whole batch fails")
        self.batches.append(list(items))
        return [ValueError(f"negative {i}") if i < 0 else i * 10 for i in items]

    def one(self, item: int) -> int:
        if not self.first_started.is_set():
            self.first_started.set()
            self.release_first.wait(5)  # the first submitter leads alone and slowly: the rest pile up
        self.alone.append(item)
        if item == 13 or item < 0:
            raise ValueError(f"refused {item}")
        return item * 10


def _pile_up(ledger: Ledger, batcher: Batcher[int, int], items: list[int]) -> list[int | str]:
    def submit(item: int) -> int | str:
        try:
            return batcher.submit(item)
        except ValueError as exc:
            return str(exc)

    with ThreadPoolExecutor(len(items) + 1) as pool:
        first = pool.submit(submit, 0)
        assert ledger.first_started.wait(5)
        rest = [pool.submit(submit, item) for item in items]
        while len(batcher._pending) < len(items):  # every other thread is queued behind the leader
            threading.Event().wait(0.005)
        ledger.release_first.set()
        return [first.result(), *(f.result() for f in rest)]


def test_submissions_during_a_batch_share_the_next_one_and_get_their_own_outcome() -> None:
    ledger = Ledger()
    batcher: Batcher[int, int] = Batcher(ledger.many, ledger.one)
    results = _pile_up(ledger, batcher, [1, 2, -3, 4])
    assert results == [0, 10, 20, "negative -3", 40]
    assert ledger.alone == [0]
    assert [sorted(b) for b in ledger.batches] == [[-3, 1, 2, 4]]
    assert (batcher.batches, batcher.largest) == (2, 4)


def test_a_failed_batch_is_retried_item_by_item() -> None:
    ledger = Ledger()
    batcher: Batcher[int, int] = Batcher(ledger.many, ledger.one)
    results = _pile_up(ledger, batcher, [1, 13, 2])
    assert results == [0, 10, "refused 13", 20]
    assert ledger.batches == []
    assert sorted(ledger.alone) == [0, 1, 2, 13]


def test_max_batch_splits_what_queued_up() -> None:
    ledger = Ledger()
    batcher: Batcher[int, int] = Batcher(ledger.many, ledger.one, max_batch=2)
    results = _pile_up(ledger, batcher, [1, 2, 3, 4, 5])
    assert results == [0, 10, 20, 30, 40, 50]
    assert all(len(b) <= 2 for b in ledger.batches)
    assert sorted(i for b in ledger.batches for i in b) + ledger.alone[1:] == [1, 2, 3, 4, 5]


def test_a_lone_submitter_runs_at_once_and_sees_its_error() -> None:
    ledger = Ledger()
    ledger.first_started.set()
    batcher: Batcher[int, int] = Batcher(ledger.many, ledger.one)
    assert batcher.submit(7) == 70
    with pytest.raises(ValueError, match="refused -1"):
        batcher.submit(-1)
    assert batcher.batches == 2 and ledger.batches == []


def test_a_batch_of_size_zero_is_refused() -> None:
    with pytest.raises(ValueError):
        Batcher[int, int](lambda items: list(items), lambda item: item, max_batch=0)
