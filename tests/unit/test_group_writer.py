"""GroupWriter: concurrent submissions share transactions; a failed group is retried item by item."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from tollgate.execution.blocking import BlockingPool
from tollgate.execution.recording import GroupWriter


class Ledger:
    """Stands in for a database: a group is written all-or-nothing, and the value 13 is refused."""

    def __init__(self) -> None:
        self.committed: list[int] = []
        self.groups: list[int] = []
        self.gate = threading.Event()

    def write_many(self, items: Sequence[int]) -> None:
        self.gate.wait(5)  # the first group is slow, so the others pile up behind it
        if 13 in items:
            raise ValueError("refused")
        self.groups.append(len(items))
        self.committed.extend(items)

    def write_one(self, item: int) -> None:
        self.write_many([item])


async def _submit_all(writer: GroupWriter[int], items: list[int]) -> list[BaseException | None]:
    async def one(item: int) -> BaseException | None:
        try:
            await writer.submit(item)
        except ValueError as exc:
            return exc
        return None

    return list(await asyncio.gather(*(one(i) for i in items)))


def test_concurrent_items_are_written_in_shared_groups() -> None:
    ledger = Ledger()
    writer = GroupWriter(BlockingPool(2), ledger.write_many, ledger.write_one)

    async def run() -> list[BaseException | None]:
        first = asyncio.ensure_future(writer.submit(0))
        await asyncio.sleep(0.05)
        rest = asyncio.ensure_future(_submit_all(writer, list(range(100, 139))))
        await asyncio.sleep(0.05)
        ledger.gate.set()
        await first
        return await rest

    assert run_loop(run()) == [None] * 39
    assert sorted(ledger.committed) == [0, *range(100, 139)]
    assert ledger.groups == [1, 39]  # one transaction for everything that arrived during the first


def test_a_failed_group_is_written_item_by_item() -> None:
    ledger = Ledger()
    ledger.gate.set()
    writer = GroupWriter(BlockingPool(2), ledger.write_many, ledger.write_one)
    outcomes = run_loop(_submit_all(writer, [11, 12, 13, 14]))
    assert [type(o).__name__ if o else None for o in outcomes] == [None, None, "ValueError", None]
    assert sorted(ledger.committed) == [11, 12, 14]


def run_loop(coroutine: object) -> list[BaseException | None]:
    result: Any = asyncio.run(coroutine)  # type: ignore[arg-type]
    assert isinstance(result, list)
    return result


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError):
        BlockingPool(0)


def test_a_write_that_cannot_run_fails_its_callers_instead_of_hanging_them() -> None:
    """The pool is shut down (server shutdown while a cancelled stream is still being recorded): the
    write cannot even be scheduled. Every caller gets the error; none waits forever."""
    ledger = Ledger()
    ledger.gate.set()
    pool = BlockingPool(1)
    writer = GroupWriter(pool, ledger.write_many, ledger.write_one)
    pool.shutdown()

    async def run() -> list[BaseException | None]:
        return list(
            await asyncio.wait_for(  # a guard against the hang, not a timing assertion
                asyncio.gather(*(writer.submit(i) for i in range(3)), return_exceptions=True), 10
            )
        )

    outcomes = run_loop(run())
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    assert ledger.committed == []
