"""The aiohttp transport splits a streamed body into lines exactly as httpx's ``aiter_lines`` did
(``str.splitlines`` semantics, however the body is cut into reads), so the stream decoders see the
same lines after the switch of upstream client."""

from __future__ import annotations

from httpx._decoders import LineDecoder
from hypothesis import given
from hypothesis import strategies as st

from tollgate.providers.upstream_response import LineSplitter

PIECES = st.lists(st.text(alphabet="ab\r\n\x1c\u2028: ", max_size=12), max_size=12)


def _split(pieces: list[str], decoder: LineSplitter | LineDecoder) -> list[str]:
    lines: list[str] = []
    for piece in pieces:
        lines += decoder.feed(piece) if isinstance(decoder, LineSplitter) else decoder.decode(piece)
    return lines + decoder.flush()


@given(PIECES)
def test_lines_match_httpx_for_any_cut(pieces: list[str]) -> None:
    assert _split([p for p in pieces if p], LineSplitter()) == _split([p for p in pieces if p], LineDecoder())


@given(PIECES)
def test_lines_do_not_depend_on_where_the_body_was_cut(pieces: list[str]) -> None:
    whole = "".join(pieces)
    assert _split([p for p in pieces if p], LineSplitter()) == _split([whole] if whole else [], LineSplitter())


def test_crlf_split_between_reads_is_one_line_end() -> None:
    assert _split(["data: 1\r", "\ndata: 2\r\n", "\r\n"], LineSplitter()) == ["data: 1", "data: 2", ""]
