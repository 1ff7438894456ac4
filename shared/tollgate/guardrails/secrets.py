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

# Each known shape is searched only when its literal prefix occurs in the text (str.find is C-fast;
# one big alternation would be tried at every position).
_KNOWN: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (("sk-ant-",), re.compile(r"\bsk-ant-[A-Za-z0-9]{2,10}-[A-Za-z0-9_-]{20,}")),  # Anthropic
    (("sk-",), re.compile(r"\bsk-(?!ant-)(?:proj-|svcacct-|admin-|or-v1-)?[A-Za-z0-9_-]{20,}")),  # OpenAI etc.
    (("AKIA", "ASIA"), re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),  # AWS access key id
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),  # GitHub
    (("github_pat_",), re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}")),  # GitHub fine-grained PAT
    (("AIza",), re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),  # Google API key
    (("xox",), re.compile(r"\bxox[abprs]-[0-9A-Za-z-]{10,}")),  # Slack
    (("k_live_",), re.compile(r"\b[sr]k_live_[0-9A-Za-z]{20,}")),  # Stripe
    (("tg_",), re.compile(r"\btg_[A-Za-z0-9]+_[A-Za-z0-9_-]{16,}")),  # Tollgate gateway keys
    (
        ("PRIVATE KEY-----",),
        re.compile(r"-----BEGIN[ A-Z0-9]*PRIVATE KEY-----(?:[\s\S]{0,16384}?-----END[ A-Z0-9]*PRIVATE KEY-----)?"),
    ),
    (("earer",), re.compile(r"\b[Bb]earer[ \t]+[A-Za-z0-9._~+/-]{20,}=*")),
)

# A key-like name (found in the lower-cased text), the rest of the identifier, an optional closing
# quote, ``=`` or ``:``, an optional opening quote, then the value.
_NAMES = ("key", "secret", "token", "passw", "pwd", "credential")
_ASSIGNED_AFTER_NAME = re.compile(
    r"""[A-Za-z0-9_-]{0,40}["']?\s{0,4}[:=]\s{0,4}["']?(?P<value>[A-Za-z0-9/+_.~=-]{16,256})"""
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX = re.compile(r"[0-9a-fA-F]+")
_DIGEST_LENGTHS = frozenset({32, 40, 56, 64, 96, 128})  # md5, sha1, sha224, sha256, sha384, sha512
MIN_ENTROPY_BITS = 3.5


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


def _assigned_values(text: str) -> list[Span]:
    lowered = text.lower()
    spans: dict[int, Span] = {}
    for name in _NAMES:
        at = lowered.find(name)
        while at != -1:
            m = _ASSIGNED_AFTER_NAME.match(text, at + len(name))
            if m is not None and m.start("value") not in spans and _looks_random(m.group("value")):
                spans[m.start("value")] = Span(m.start("value"), m.end("value"), NAME)
            at = lowered.find(name, at + len(name))
    return list(spans.values())


def find_secrets(text: str) -> list[Span]:
    spans: list[Span] = []
    for prefixes, pattern in _KNOWN:
        if any(prefix in text for prefix in prefixes):
            spans.extend(Span(m.start(), m.end(), NAME) for m in pattern.finditer(text))
    spans.extend(_assigned_values(text))
    return spans
