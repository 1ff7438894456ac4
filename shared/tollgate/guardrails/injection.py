"""The ``prompt_injection`` detector: phrasings that try to override the system prompt or policy.

Patterns are the common families in public injection corpora (OWASP LLM01 examples, the
"ignore previous instructions" / DAN / "developer mode" / system-prompt exfiltration families),
matched case-insensitively on word boundaries. It is a tripwire for the obvious attempts, not a
classifier: paraphrases and other languages pass.
"""

from __future__ import annotations

import re

from tollgate.guardrails.spans import Span

NAME = "prompt_injection"

_PATTERN = re.compile(
    r"""(?ix)\b(?:
        (?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|my\s+)?
            (?:previous|prior|above|earlier|preceding|system|original|initial)\s+
            (?:instructions?|prompts?|rules|directions|guidelines|context|messages?)
      | (?:reveal|print|show|repeat|output|leak|tell\s+me)\s+(?:me\s+)?(?:your|the)\s+
            (?:system|hidden|initial|original)\s+(?:prompt|instructions?|message)
      | you\s+are\s+now\s+(?:DAN|in\s+developer\s+mode|jailbroken|unrestricted|an?\s+unfiltered)
      | (?:enable|enter|activate)\s+(?:developer|god|jailbreak|DAN)\s+mode
      | do\s+anything\s+now
      | pretend\s+(?:that\s+)?you\s+(?:have|are\s+under)\s+no\s+(?:restrictions|rules|guidelines|filters)
      | act\s+as\s+(?:if\s+)?(?:you\s+(?:have|had)\s+)?no\s+(?:restrictions|rules|guidelines|filters)
      | new\s+instructions\s*:
    )""",
)


def find_injection(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), NAME) for m in _PATTERN.finditer(text)]
