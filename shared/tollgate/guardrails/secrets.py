"""The ``secrets`` detector: credentials of known shapes, private key blocks, bearer tokens, and
high-entropy values assigned to key-like names.

Shapes (public formats of each vendor): OpenAI ``sk-`` / ``sk-proj-``, Anthropic ``sk-ant-``,
AWS access key ids ``AKIA``/``ASIA`` + 16, GitHub ``ghp_``/``gho_``/``ghu_``/``ghs_``/``ghr_`` and
``github_pat_``, Google ``AIza`` + 35, Slack ``xox[abprs]-``, Stripe ``sk_live_``/``rk_live_``,
Tollgate ``tg_`` keys, PEM ``-----BEGIN … PRIVATE KEY-----`` blocks and ``Bearer <token>``.
A value assigned to a key-like name (``api_key = "…"``, ``"client_secret": "…"``, ``password:``)
counts when it is ≥ 16 characters, has ≥ 3.5 bits of Shannon entropy per character and is not a
UUID, a hex digest of a well-known length or a plain word. Keys in Markdown code blocks are
found like any other text.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from tollgate.guardrails.spans import Span

NAME = "secrets"

_KNOWN = re.compile(
    r"""
    \bsk-ant-[A-Za-z0-9]{2,10}-[A-Za-z0-9_-]{20,}          # Anthropic
  | \bsk-(?:proj-|svcacct-|admin-|or-v1-)?[A-Za-z0-9_-]{20,} # OpenAI, OpenRouter
  | \b(?:AKIA|ASIA)[0-9A-Z]{16}\b                           # AWS access key id
  | \bgh[pousr]_[A-Za-z0-9]{36,}\b                          # GitHub tokens
  | \bgithub_pat_[A-Za-z0-9_]{40,}                          # GitHub fine-grained PAT
  | \bAIza[0-9A-Za-z_-]{35}                                 # Google API key
  | \bxox[abprs]-[0-9A-Za-z-]{10,}                          # Slack
  | \b[sr]k_live_[0-9A-Za-z]{20,}                           # Stripe
  | \btg_[A-Za-z0-9]+_[A-Za-z0-9_-]{16,}                    # Tollgate gateway keys
  | -----BEGIN[ A-Z0-9]*PRIVATE\ KEY-----(?:[\s\S]{0,16384}?-----END[ A-Z0-9]*PRIVATE\ KEY-----)?
  | \b[Bb]earer[ \t]+[A-Za-z0-9._~+/-]{20,}=*
    """,
    re.VERBOSE,
)

# name (optionally quoted) then = or : then the value (optionally quoted)
_ASSIGNED = re.compile(
    r"""(?ix)
    (?:api[_-]?key|apikey|secret(?:[_-]?key)?|client[_-]?secret|access[_-]?(?:key|token)|auth[_-]?token
      |token|passw(?:or)?d|pwd|private[_-]?key|credentials?)
    ["']?\s*[:=]\s*["']?
    (?P<value>[A-Za-z0-9/+_.~=-]{16,256})
    """
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_DIGEST_LENGTHS = frozenset({32, 40, 56, 64, 96, 128})  # md5, sha1, sha224, sha256, sha384, sha512
MIN_ENTROPY_BITS = 3.5
_HINTS = ("sk-", "AKIA", "ASIA", "gh", "github_pat_", "AIza", "xox", "_live_", "tg_", "PRIVATE KEY", "earer")
_NAME_HINTS = re.compile(r"(?i)key|secret|token|passw|pwd|credential")


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``'s character distribution."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _looks_random(value: str) -> bool:
    if _UUID.fullmatch(value):
        return False
    if _HEX.fullmatch(value) and len(value) in _DIGEST_LENGTHS:
        return False
    if value.isalpha() and (value.islower() or value.isupper()):
        return False
    return shannon_entropy(value) >= MIN_ENTROPY_BITS


def find_secrets(text: str) -> list[Span]:
    spans: list[Span] = []
    if any(hint in text for hint in _HINTS):
        spans.extend(Span(m.start(), m.end(), NAME) for m in _KNOWN.finditer(text))
    if _NAME_HINTS.search(text):
        for m in _ASSIGNED.finditer(text):
            value = m.group("value")
            if _looks_random(value):
                spans.append(Span(m.start("value"), m.end("value"), NAME))
    return spans
