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


# Where the pattern is tried: at each occurrence (str.find on the lower-cased text) of a family's
# first words, and only when the family's later words occur somewhere in the text at all. This keeps
# the cost at a few C-level scans instead of trying the whole pattern at every position.
_NOUNS = ("instruction", "prompt", "rule", "direction", "guideline", "context", "message")
_FAMILIES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (_NOUNS, ("ignore", "disregard", "forget", "override", "bypass")),
    (("prompt", "instruction", "message"), ("reveal", "print", "show", "repeat", "output", "leak", "tell")),
    ((), ("you are now",)),
    (("mode",), ("enable", "enter", "activate")),
    ((), ("do anything now",)),
    (("no restriction", "no rule", "no guideline", "no filter"), ("pretend", "act as")),
    ((), ("new instructions",)),
)


def find_injection(text: str) -> list[Span]:
    lowered = text.lower()
    found: dict[int, Span] = {}
    for gates, triggers in _FAMILIES:
        if gates and not any(gate in lowered for gate in gates):
            continue
        for trigger in triggers:
            at = lowered.find(trigger)
            while at != -1:
                if at == 0 or not lowered[at - 1].isalnum():
                    m = _PATTERN.match(text, at)
                    if m is not None:
                        found[m.start()] = Span(m.start(), m.end(), NAME)
                at = lowered.find(trigger, at + len(trigger))
    return [found[k] for k in sorted(found)]
