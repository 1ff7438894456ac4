"""``BlockingPool``: results and errors come back to the awaiting coroutine, the caller's context
travels with the step, at most ``workers`` steps run at once, a step cancelled before it started
never runs, and ``shutdown`` fails what is still queued."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from tollgate.execution.blocking import BlockingPool

REQUEST = contextvars.ContextVar("request", default="none")


def test_a_step_returns_its_result_and_raises_its_error() -> None:
    pool = BlockingPool(2)

    def fails() -> None:
        raise KeyError("boom")

    async def main() -> None:
        assert await pool.run(lambda a, b: a + b, 2, b=3) == 5
        with pytest.raises(KeyError, match="boom"):
            await pool.run(fails)

    try:
        asyncio.run(main())
    finally:
        pool.shutdown()


def test_the_callers_context_travels_with_each_step() -> None:
    pool = BlockingPool(2)

    async def one(name: str) -> tuple[str, str]:
        REQUEST.set(name)
        await asyncio.sleep(0)
        return name, await pool.run(REQUEST.get)

    async def main() -> list[tuple[str, str]]:
        return await asyncio.gather(*(one(f"req-{i}") for i in range(20)))

    try:
        assert all(mine == seen for mine, seen in asyncio.run(main()))
    finally:
        pool.shutdown()


def test_no_more_than_workers_steps_run_at_once_and_they_run_on_named_threads() -> None:
    pool = BlockingPool(3, name="tg-test")
    running, peak, names = [0], [0], set()
    lock = threading.Lock()

    def step() -> None:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            names.add(threading.current_thread().name)
        time.sleep(0.01)
        with lock:
            running[0] -= 1

    async def main() -> None:
        await asyncio.gather(*(pool.run(step) for _ in range(30)))

    try:
        asyncio.run(main())
    finally:
        pool.shutdown()
    assert peak[0] == 3
    assert names == {"tg-test_0", "tg-test_1", "tg-test_2"}


def test_a_step_cancelled_before_it_started_never_runs() -> None:
    pool = BlockingPool(1)
    release = threading.Event()
    ran: list[str] = []

    async def main() -> None:
        first = asyncio.ensure_future(pool.run(release.wait, 5))
        await asyncio.sleep(0.05)  # the only thread is now busy with ``first``
        second = asyncio.ensure_future(pool.run(ran.append, "second"))
        await asyncio.sleep(0)
        second.cancel()
        release.set()
        assert await first is True
        with pytest.raises(asyncio.CancelledError):
            await second
        await pool.run(ran.append, "third")

    try:
        asyncio.run(main())
    finally:
        pool.shutdown()
    assert ran == ["third"]


def test_shutdown_fails_queued_steps_and_refuses_new_ones() -> None:
    pool = BlockingPool(1)
    release = threading.Event()

    async def main() -> None:
        busy = asyncio.ensure_future(pool.run(release.wait, 5))
        await asyncio.sleep(0.05)
        queued = asyncio.ensure_future(pool.run(lambda: "never"))
        await asyncio.sleep(0)
        pool.shutdown()
        release.set()
        assert await busy is True  # a running step finishes
        with pytest.raises(asyncio.CancelledError):
            await queued
        with pytest.raises(RuntimeError, match="shut down"):
            await pool.run(lambda: None)

    asyncio.run(main())


def test_at_least_one_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        BlockingPool(0)
