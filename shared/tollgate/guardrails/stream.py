"""Guardrails on a streamed answer's text, scanned as the deltas arrive. Pure: no I/O.

A stream's text comes in *channels* (an OpenAI choice, an Anthropic content block); each channel is
scanned on its own. New text is scanned (in batches of ``SCAN_EVERY`` characters when redacting,
``OBSERVE_EVERY`` otherwise: deltas are often one token) together with a carry-over window of the
text before it (the last ``CARRY`` characters, kept longer while a match may still be growing), so
a secret split across two or more deltas is found like one sent whole.

- **Observe** (no detector redacts): the text is passed on unchanged, at once; a hit is reported
  when its match is *settled* (a character follows it, or the channel ended), once per
  (detector, message index).
- **Redact** (some detector redacts, or blocks: on a response ``block`` redacts, the provider has
  been paid): the last ``HOLD`` characters of a channel are held back, and so is everything from the
  start of a match that may still grow (it touches the end of the text, or it is a PEM private key
  header whose ``END`` line has not arrived). Text is released only once no match can start in it
  unseen; released matches are replaced by ``[REDACTED:<detector>]``. The held text is released at
  the end of the channel (``flush``). At most ``MAX_HOLD`` characters are ever held: past that, the
  held text is released with what is found in it redacted (a single match longer than that, which no
  detector's shape allows short of a 16 KB PEM block, would be cut).

The client therefore sees redacted text up to ``HOLD + SCAN_EVERY`` characters later than it was
produced; observed (warn-only) text is never delayed.
Decision and numbers: docs/guardrails.md ("Streamed answers").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from tollgate.guardrails.policy import GuardAction
from tollgate.guardrails.scanner import FINDERS, Hit, find_spans
from tollgate.guardrails.spans import Span, redact_spans

# Context kept before new text: the longest left context a detector needs (an e-mail's local part is
# ≤ 64 characters; a key-like name, its separators and a 16-character value ≤ ~70) with a margin.
CARRY = 256
# Held back in redact mode: longer than any detector needs to the right of a match's start to decide
# (a 19-digit card with separators, an IBAN in groups, an assigned value, an injection phrase).
HOLD = 128
# A held match (e.g. a PEM block waiting for its END line) never holds more than this.
MAX_HOLD = 20_000
# Deltas are scanned in batches of at least this many new characters (a scan costs ~30 µs whatever
# its size below a few hundred characters; deltas are often a single token). Redact mode releases
# text only after a scan, so its batches are small; observe mode never delays the text, so its
# batches are large (a hit is reported up to that many characters later).
SCAN_EVERY = 48
OBSERVE_EVERY = 256
_PEM_OPEN = "PRIVATE KEY-----"
_PEM_END = re.compile(r"-----END[ A-Z0-9]*PRIVATE KEY-----")


@dataclass
class _Channel:
    index: int  # the message index hits are reported under
    tail: str = ""  # text already scanned and released (original, unredacted), for context
    pending: str = ""  # text received but not scanned yet (observe) / not released yet (redact)
    unscanned: int = 0  # redact mode: characters of ``pending`` added since the last scan
    seen: set[str] = field(default_factory=set)  # detectors already reported for this channel


class StreamScanner:
    """Feed each delta with ``feed(channel, index, text)`` and write what it returns; call
    ``flush(channel)`` when a channel ends (and ``flush_all`` when the stream does). ``take_hits``
    returns the hits found since its last call (each (detector, index) once per stream)."""

    def __init__(self, actions: Mapping[str, GuardAction], role: str = "assistant") -> None:
        # block acts as redact on a response; off detectors do not run
        self._actions = {
            name: GuardAction.REDACT if action is GuardAction.BLOCK else action
            for name, action in actions.items()
            if action is not GuardAction.OFF
        }
        self.redacting = GuardAction.REDACT in self._actions.values()
        self._role = role
        self._channels: dict[object, _Channel] = {}
        self._hits: list[Hit] = []
        self._reported: set[tuple[str, int]] = set()

    @property
    def active(self) -> bool:
        return bool(self._actions)

    def channels(self) -> list[object]:
        return list(self._channels)

    def feed(self, channel: object, index: int, text: str) -> str:
        """The text to send now in place of ``text`` (redact mode: possibly shorter, or empty)."""
        state = self._channels.get(channel)
        if state is None:
            state = self._channels[channel] = _Channel(index)
        state.pending += text
        if not self.redacting:
            if len(state.pending) >= OBSERVE_EVERY:
                self._observe(state)
            return text
        state.unscanned += len(text)
        if state.unscanned < SCAN_EVERY:
            return ""
        return self._release(state, final=len(state.pending) > MAX_HOLD)

    def flush(self, channel: object) -> str:
        """The channel ended: release everything held (redacted) and report what is left."""
        state = self._channels.pop(channel, None)
        if state is None:
            return ""
        if not self.redacting:
            self._observe(state)
            self._report(state, find_spans(state.tail, self._actions), len(state.tail), final=True)
            return ""
        return self._release(state, final=True)

    def flush_all(self) -> dict[object, str]:
        """Every open channel's held text (empty strings left out)."""
        out = {channel: self.flush(channel) for channel in list(self._channels)}
        return {channel: text for channel, text in out.items() if text}

    def take_hits(self) -> list[Hit]:
        hits, self._hits = self._hits, []
        return hits

    def warned(self) -> list[str]:
        """Detectors with a ``warn`` hit so far, each once (the ``x-tollgate-guardrail`` value)."""
        names = {name for name, _ in self._reported if self._actions.get(name) is GuardAction.WARN}
        return [name for name in FINDERS if name in names]

    # -- observe --------------------------------------------------------------------------------

    def _observe(self, state: _Channel) -> None:
        window = state.tail + state.pending
        state.pending = ""
        spans = find_spans(window, self._actions)
        self._report(state, spans, len(window), final=False)
        keep_from = max(0, len(window) - CARRY)
        for span in spans:  # a match that may still grow keeps its start in the window
            if span.end >= len(window) and span.start < keep_from:
                keep_from = max(span.start, len(window) - MAX_HOLD)
        state.tail = window[keep_from:]

    # -- redact ---------------------------------------------------------------------------------

    def _release(self, state: _Channel, *, final: bool) -> str:
        tail_len = len(state.tail)
        window = state.tail + state.pending
        spans = find_spans(window, self._actions)
        cut = len(window) if final else len(window) - HOLD
        if not final:
            for span in spans:
                if span.end > cut or _open_ended(window, span):
                    cut = min(cut, span.start)
        cut = max(cut, tail_len)
        released = [s for s in spans if s.end <= cut or final]
        self._report(state, [s for s in released if s.end > tail_len], cut, final=True)
        to_redact = [
            Span(max(s.start, tail_len) - tail_len, min(s.end, cut) - tail_len, s.detector)
            for s in released
            if s.end > tail_len and s.start < cut and self._actions[s.detector] is GuardAction.REDACT
        ]
        out = redact_spans(window[tail_len:cut], to_redact) if to_redact else window[tail_len:cut]
        state.tail = window[:cut][-CARRY:]
        state.pending = window[cut:]
        state.unscanned = 0
        return out

    # -- hits -----------------------------------------------------------------------------------

    def _report(self, state: _Channel, spans: list[Span], end: int, *, final: bool) -> None:
        """Record settled spans (followed by a character before ``end``, or ``final``)."""
        for span in spans:
            if span.detector in state.seen or not (final or span.end < end):
                continue
            state.seen.add(span.detector)
            key = (span.detector, state.index)
            if key not in self._reported:
                self._reported.add(key)
                self._hits.append(Hit(span.detector, self._actions[span.detector], self._role, state.index))


def _open_ended(window: str, span: Span) -> bool:
    """A match that more text could still extend: it runs to the end of what has arrived, or it is a
    PEM private key header without its END line yet (the block is matched whole once it arrives)."""
    if span.end >= len(window):
        return True
    return window.endswith(_PEM_OPEN, span.start, span.end) and _PEM_END.search(window, span.end) is None
