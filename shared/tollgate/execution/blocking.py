"""Where the async execute path runs its short synchronous database steps.

Credential resolution, prices, budget reserve/settle, the usage row and credential health are
milliseconds of SQLAlchemy work. They run on a small BOUNDED thread pool that never waits on a
provider (upstream I/O is on the event loop), so a thousand calls in flight need no thousand
threads; when every thread is busy, further steps queue in the pool instead of opening more
database connections. The caller's contextvars (request id, workspace) travel with each step.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class BlockingPool:
    """A bounded thread pool for short blocking work awaited from the event loop."""

    def __init__(self, workers: int, name: str = "tollgate-db") -> None:
        if workers < 1:
            raise ValueError("a blocking pool needs at least one thread")
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` on a pool thread in a copy of the current context."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        call = functools.partial(context.run, fn, *args, **kwargs)
        return await loop.run_in_executor(self._executor, call)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
