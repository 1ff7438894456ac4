"""Redact anything shaped like a secret from text bound for logs or error messages."""

from __future__ import annotations

import re

REDACTED = "[REDACTED]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # header-ish "name: value" / "name=value" / JSON "name": "value"
    (
        re.compile(
            r"(?i)((?:authorization|x-api-key|x-goog-api-key|api[-_]?key|proxy-authorization)"
            r"[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|api-key|basic)\s+)?[^\"'\s,;}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"(?i)\b(bearer|api-key)\s+[A-Za-z0-9._~+/=-]{6,}"), r"\1 " + REDACTED),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{6,}"), "sk-" + REDACTED),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{10,}"), "AIza" + REDACTED),
    (re.compile(r"\btg_[A-Za-z0-9]+_[A-Za-z0-9_-]{6,}"), "tg_" + REDACTED),
    (re.compile(r"\bAQVN[0-9A-Za-z_-]{10,}"), "AQVN" + REDACTED),
    (re.compile(r"\b(?:t1\.|y0_)[0-9A-Za-z_.-]{20,}"), REDACTED),
    (re.compile(r"([?&](?:key|api_key|token)=)[^&\s\"']+"), r"\1" + REDACTED),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def mask_key(secret: str) -> str:
    """A display hint such as ``sk-...abcd``: a short known prefix and the last four characters."""
    tail = secret[-4:] if len(secret) >= 12 else ""
    for prefix in ("sk-ant-", "sk-or-", "sk-proj-", "sk-", "AIza", "AQVN", "tg_"):
        if secret.startswith(prefix):
            return f"{prefix}...{tail}"
    return f"...{tail}"
