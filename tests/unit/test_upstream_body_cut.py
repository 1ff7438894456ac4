"""A body cut by the upstream (connection closed mid-stream): the lines that had already arrived
are still handed to the stream decoder before the failure. aiohttp raises a broken body's error
before handing out what it had buffered, so ``UpstreamResponse`` recovers those bytes; this test
pins that against aiohttp's real ``StreamReader`` (it fails if an aiohttp release moves them)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import aiohttp

from tollgate.providers.upstream_response import UpstreamResponse


class _Protocol:
    """What ``StreamReader`` asks of its protocol (flow control only)."""

    _reading_paused = False

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


class _Response:
    def __init__(self, content: aiohttp.StreamReader) -> None:
        self.status = 200
        self.headers: dict[str, str] = {}
        self.content = content

    def release(self) -> None: ...


async def _lines_until_the_cut() -> tuple[list[str], BaseException | None]:
    loop = asyncio.get_running_loop()
    content = aiohttp.StreamReader(cast(Any, _Protocol()), 2**16, loop=loop)
    response = UpstreamResponse(cast(Any, _Response(content)))
    lines: list[str] = []
    failure: BaseException | None = None
    # The last events and the close arrive in the same read of the socket, before the decoder runs
    content.feed_data(b'data: {"n": 1}\n\ndata: {"n": 2}\n\n')
    content.set_exception(aiohttp.ClientPayloadError("Response payload is not completed"))
    try:
        async for line in response.aiter_lines():
            lines.append(line)
    except aiohttp.ClientPayloadError as exc:
        failure = exc
    return lines, failure


def test_lines_that_arrived_before_the_cut_are_kept_then_the_failure_raised() -> None:
    lines, failure = asyncio.run(_lines_until_the_cut())
    assert lines == ['data: {"n": 1}', "", 'data: {"n": 2}', ""]
    assert isinstance(failure, aiohttp.ClientPayloadError)
