"""Prompt-size estimates before a call (for reservations and /v1/cost/estimate).

Heuristic: ~4 characters per token plus 4 tokens of framing per message (documented in
docs/decisions.md); exact tokenizers can be plugged in per provider.
"""

from __future__ import annotations

from typing import Any

from tollgate.providers.mock import prompt_tokens

DEFAULT_MAX_OUTPUT_TOKENS = 4096


def estimate_prompt_tokens(provider: str, model: str, messages: list[dict[str, Any]]) -> int:
    return prompt_tokens(messages)
