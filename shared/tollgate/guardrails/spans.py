"""A detector hit as a character span of one text; detectors return spans, never the text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Span:
    start: int
    end: int
    detector: str


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Spans sorted by start with overlaps removed (the earlier, then longer, span wins)."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if out and span.start < out[-1].end:
            continue
        out.append(span)
    return out


def redact_spans(text: str, spans: Iterable[Span]) -> str:
    """``text`` with every span replaced by ``[REDACTED:<detector>]`` (spans must not overlap)."""
    parts: list[str] = []
    last = 0
    for span in sorted(spans):
        parts.append(text[last : span.start])
        parts.append(f"[REDACTED:{span.detector}]")
        last = span.end
    parts.append(text[last:])
    return "".join(parts)
