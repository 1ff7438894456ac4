"""An open streamed upstream response on aiohttp, and its body split into lines.

``UpstreamHttp.open_stream`` (``tollgate.providers.http``) returns an ``UpstreamResponse``; the
stream decoders read it line by line through ``tollgate.providers.http.aiter_lines``, which maps
transport failures to classified errors. Lines are split exactly as httpx's ``aiter_lines`` split
them before the switch of client (``LineSplitter``).
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator, Mapping

import aiohttp


class UpstreamResponse:
    """An open streamed upstream response: ``status_code``, ``headers``, its body as lines
    (``aiter_lines``) and ``aclose`` (returns the connection to the pool when the body was read to
    the end, else closes it)."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status_code = response.status
        self.headers: Mapping[str, str] = response.headers

    async def aiter_lines(self) -> AsyncIterator[str]:
        """The body's lines, split as ``str.splitlines`` splits them (``\\n``, ``\\r\\n``, ``\\r``
        and the other Unicode line ends, a ``\\r\\n`` cut between two reads kept whole), decoded as
        UTF-8 with replacement, without their line ends."""
        text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        lines = LineSplitter()
        content = self._response.content
        try:
            async for chunk in content.iter_any():
                for line in lines.feed(text.decode(chunk)):
                    yield line
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError, OSError):
            # The lines completed before the connection broke are still part of the body.
            for line in lines.feed(text.decode(_arrived(content))):
                yield line
            raise
        for line in lines.feed(text.decode(b"", final=True)) + lines.flush():
            yield line

    async def read_bounded(self, limit: int) -> bytes:
        """Up to ``limit`` bytes of the body; a transport failure ends the read (error bodies)."""
        buffer = bytearray()
        try:
            async for chunk in self._response.content.iter_any():
                buffer.extend(chunk)
                if len(buffer) >= limit:
                    break
        except (TimeoutError, aiohttp.ClientError, OSError):
            pass
        return bytes(buffer[:limit])

    async def aclose(self) -> None:
        self._response.release()


class LineSplitter:
    """Incremental ``str.splitlines``: ``feed`` returns the lines a piece of text completed, ``flush``
    the unterminated rest at the end. A trailing ``\\r`` waits for the next piece (it may be half of
    ``\\r\\n``). The same splitting httpx's ``aiter_lines`` did, so the stream decoders see the
    same lines."""

    NEWLINES = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"

    def __init__(self) -> None:
        self._pending = ""
        self._trailing_cr = False

    def feed(self, text: str) -> list[str]:
        if self._trailing_cr:
            text = "\r" + text
            self._trailing_cr = False
        if text.endswith("\r"):
            self._trailing_cr = True
            text = text[:-1]
        if not text:
            return []
        text = self._pending + text
        lines = text.splitlines()
        if text[-1] in self.NEWLINES:
            self._pending = ""
        else:
            self._pending = lines.pop()
        return lines

    def flush(self) -> list[str]:
        if not self._pending and not self._trailing_cr:
            return []
        rest, self._pending, self._trailing_cr = self._pending, "", False
        return [rest]


def _arrived(content: aiohttp.StreamReader) -> bytes:
    """The bytes that arrived before the connection broke and were not handed out yet. aiohttp
    raises a broken connection's error before handing out what it had buffered (httpx handed it out
    first), so a provider's last chunks before a reset would be lost; they are taken from the
    reader's buffer (private attributes, read defensively: nothing is recovered if they change)."""
    buffer = getattr(content, "_buffer", None)
    if not buffer:
        return b""
    offset = getattr(content, "_buffer_offset", 0)
    data = b"".join(buffer)[offset if isinstance(offset, int) else 0 :]
    buffer.clear()
    return data
