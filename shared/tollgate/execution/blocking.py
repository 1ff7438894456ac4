"""Where the async execute path runs its short synchronous database steps.

Credential resolution, prices, budget reserve/settle, the usage row and credential health are
milliseconds of SQLAlchemy work. They run on a small BOUNDED thread pool that never waits on a
provider (upstream I/O is on the event loop), so a thousand calls in flight need no thousand
threads; when every thread is busy, further steps queue in the pool instead of opening more
database connections. The caller's contextvars (request id, workspace) travel with each step.

Each step is a hop from the loop to a thread and back, several per call, so the hop is kept
lean: the step goes on a ``queue.SimpleQueue`` (C) to threads started up front, and its result
comes back by resolving the awaiting asyncio future through ``call_soon_threadsafe``. That is
what ``loop.run_in_executor`` does too, minus a ``concurrent.futures.Future`` (with its own
``Condition``) per step, the future chaining in both directions and the executor's idle-thread
semaphore (together ~5 % of the process's CPU under load, measured with py-spy).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# (the awaiting future, its loop, the caller's context, the step)
_Job = tuple[asyncio.Future[Any], asyncio.AbstractEventLoop, contextvars.Context, Callable[[], Any]]


class BlockingPool:
    """A bounded thread pool for short blocking work awaited from the event loop."""

    def __init__(self, workers: int, name: str = "tollgate-db") -> None:
        if workers < 1:
            raise ValueError("a blocking pool needs at least one thread")
        self.workers = workers
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False
        # The threads hold the queue, not the pool: a pool nobody holds any more stops its threads.
        weakref.finalize(self, _stop, self._jobs, self._threads)
        _LIVE.add(self)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on a pool thread in a copy of the current context and return
        its result (or raise its exception). Cancelling the caller before a thread picks the step
        up skips it; a step already running finishes and its result is dropped. Raises
        ``RuntimeError`` after ``shutdown``."""
        if self._closed:
            raise RuntimeError("the blocking pool is shut down")
        if len(self._threads) < self.workers:
            self._start_threads()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        context = contextvars.copy_context()
        self._jobs.put((future, loop, context, lambda: fn(*args, **kwargs)))
        return await future

    def _start_threads(self) -> None:
        with self._lock:
            while len(self._threads) < self.workers and not self._closed:
                thread = threading.Thread(
                    target=_work, args=(self._jobs,), name=f"{self._name}_{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def shutdown(self) -> None:
        """Stop the threads once their current step is done (without waiting for it); steps still
        queued fail with ``CancelledError`` in their callers. At interpreter exit, running steps
        are waited for (a usage row being written is finished), as ``ThreadPoolExecutor`` does."""
        with self._lock:
            self._closed = True
            threads = len(self._threads)
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                future, loop, _, _ = job
                _deliver(loop, _cancel, future, None)
        for _ in range(threads):
            self._jobs.put(None)


def _work(jobs: queue.SimpleQueue[_Job | None]) -> None:
    while (job := jobs.get()) is not None:
        future, loop, context, step = job
        if future.cancelled():  # the caller gave up before the step started: skip it
            continue
        try:
            result = context.run(step)
        except BaseException as exc:  # handed to the awaiting caller, as an executor does
            _deliver(loop, _fail, future, exc)
        else:
            _deliver(loop, _succeed, future, result)


def _stop(jobs: queue.SimpleQueue[_Job | None], threads: list[threading.Thread]) -> None:
    for _ in threads:
        jobs.put(None)


_LIVE: weakref.WeakSet[BlockingPool] = weakref.WeakSet()


def _join_at_exit() -> None:
    """At interpreter exit: stop every pool and wait (bounded) for the steps running on it."""
    for pool in list(_LIVE):
        pool.shutdown()
        for thread in pool._threads:
            thread.join(timeout=10)


# Runs before the interpreter stops its daemon threads (the hook ThreadPoolExecutor uses).
getattr(threading, "_register_atexit", lambda _fn: None)(_join_at_exit)


def _deliver(
    loop: asyncio.AbstractEventLoop, settle: Callable[[asyncio.Future[Any], Any], None], future: Any, value: Any
) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody awaits the result any more
        loop.call_soon_threadsafe(settle, future, value)


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if future.done():
        return
    if isinstance(exc, StopIteration):  # a future cannot carry StopIteration
        exc = RuntimeError(f"a blocking step raised {exc!r}")
    future.set_exception(exc)


def _cancel(future: asyncio.Future[Any], _value: object) -> None:
    if not future.done():
        future.cancel()
