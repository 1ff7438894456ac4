"""Benchmark: what reading a stream through ``UpstreamReader`` (the upstream read in its own task,
one chunk ahead, so a client disconnect does not cancel it) costs per chunk, against iterating the
stream directly. The stream suspends once per chunk, as a socket read does. Prints the median of
15 runs of 20,000 chunks (no pass/fail).

    python -m tests.bench.bench_stream_relay
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any

from tollgate.execution.stream_relay import UpstreamReader
from tollgate.providers.base import Usage

CHUNKS = 20_000
RUNS = 15


class _Stream:
    """A ``ChatStream`` of ``count`` small chunks, each after one suspension of the loop."""

    def __init__(self, count: int) -> None:
        self._count = count

    @property
    def usage(self) -> Usage:
        return Usage()

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        for index in range(self._count):
            await asyncio.sleep(0)
            yield {"choices": [{"index": 0, "delta": {"content": str(index)}}]}

    async def aclose(self) -> None:
        return None


async def _direct() -> float:
    started = time.perf_counter()
    async for _ in _Stream(CHUNKS):
        pass
    return time.perf_counter() - started


async def _through_reader() -> float:
    started = time.perf_counter()
    reader = UpstreamReader(_Stream(CHUNKS))
    async for _ in reader:
        pass
    await reader.aclose()
    return time.perf_counter() - started


async def _main() -> None:
    direct, read = [], []
    for _ in range(RUNS):
        direct.append(await _direct())
        read.append(await _through_reader())
    per_direct = statistics.median(direct) / CHUNKS * 1e6
    per_read = statistics.median(read) / CHUNKS * 1e6
    print(f"direct iteration      {per_direct:6.2f} µs/chunk")
    print(f"through UpstreamReader {per_read:6.2f} µs/chunk (+{per_read - per_direct:.2f} µs/chunk)")


if __name__ == "__main__":
    asyncio.run(_main())
