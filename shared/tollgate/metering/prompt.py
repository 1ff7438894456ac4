"""The prompt estimate of a whole OpenAI-format request body: everything that is sent upstream.

One function (``prompt_tokens``) sizes both the budget reservation and ``POST /v1/cost/estimate``,
so the reservation can never be below what the estimate endpoint shows. It counts:

* every message: a framing overhead of ``MESSAGE_OVERHEAD`` tokens, the role, the name, text parts,
  image parts (``metering.images``: the serving provider's own rule, dimensions from the inline
  image's header, the documented worst case for remote URLs), file and audio parts (their base64
  length / 4: an upper bound), ``tool_calls`` (function names and JSON arguments), ``tool_call_id``
  and any other field (serialized as JSON);
* ``tools`` and legacy ``functions`` (names, descriptions and JSON schemas, serialized as JSON,
  plus ``TOOL_OVERHEAD`` per tool) and ``tool_choice``; on Anthropic, the tool-use system prompt
  (``ANTHROPIC_TOOL_PROMPT`` tokens, Anthropic's published worst case);
* ``response_format`` (its JSON schema, serialized as JSON);
* ``REPLY_PRIMING`` tokens for the reply.

Text is counted by ``metering.text.text_tokens`` (tiktoken when installed, never below one token per
CJK character). The upstream's reported usage settles the reservation after the call.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tollgate.metering.images import image_size, image_tokens
from tollgate.metering.text import text_tokens, tokenizer_name

MESSAGE_OVERHEAD = 3  # OpenAI's chat framing per message (plus the role's own tokens)
REPLY_PRIMING = 3
TOOL_OVERHEAD = 8
ANTHROPIC_TOOL_PROMPT = 346
_SKIPPED_MESSAGE_KEYS = frozenset({"role", "name", "content", "tool_calls", "tool_call_id", "cache_control"})


@dataclass(frozen=True)
class PromptCount:
    """``tokens``: the estimate; ``images``: how many image parts were counted; ``method``: the text
    tokenizer used (``tiktoken:cl100k_base`` or ``heuristic:bytes``)."""

    tokens: int
    images: int
    method: str


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _string(value: Any) -> str:
    return value if isinstance(value, str) else _json(value)


def _image_part(provider: str, model: str, part: Mapping[str, Any]) -> int:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, Mapping) else image
    detail = image.get("detail") if isinstance(image, Mapping) else None
    size = None
    if isinstance(url, str) and url.startswith("data:"):
        size = image_size(url.partition(",")[2])
    return image_tokens(provider, model, size, detail if isinstance(detail, str) else None)


def _blob_tokens(value: Any) -> int:
    """An inline file or audio part: its serialized length / 4 (an upper bound for media)."""
    return math.ceil(len(_string(value)) / 4)


def _content_tokens(provider: str, model: str, content: Any) -> tuple[int, int]:
    if content is None:
        return 0, 0
    if isinstance(content, str):
        return text_tokens(content), 0
    if not isinstance(content, list):
        return text_tokens(_string(content)), 0
    tokens = images = 0
    for part in content:
        if not isinstance(part, Mapping):
            tokens += text_tokens(_string(part))
            continue
        kind = part.get("type")
        if kind == "text" or (kind is None and "text" in part):
            tokens += text_tokens(_string(part.get("text", "")))
        elif kind == "image_url":
            tokens += _image_part(provider, model, part)
            images += 1
        elif kind in ("input_audio", "file"):
            tokens += _blob_tokens(part.get(kind))
        else:
            tokens += text_tokens(_json(part))
    return tokens, images


def _message_tokens(provider: str, model: str, message: Any) -> tuple[int, int]:
    if not isinstance(message, Mapping):
        return MESSAGE_OVERHEAD + text_tokens(_string(message)), 0
    tokens, images = _content_tokens(provider, model, message.get("content"))
    tokens += MESSAGE_OVERHEAD + text_tokens(_string(message.get("role", "")))
    if message.get("name"):
        tokens += 1 + text_tokens(_string(message["name"]))
    if message.get("tool_call_id"):
        tokens += text_tokens(_string(message["tool_call_id"]))
    calls = message.get("tool_calls")
    if isinstance(calls, list):
        for call in calls:
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping):
                tokens += TOOL_OVERHEAD + text_tokens(_string(function.get("name", "")))
                tokens += text_tokens(_string(function.get("arguments", "")))
            else:
                tokens += TOOL_OVERHEAD + text_tokens(_string(call))
    elif calls is not None:
        tokens += text_tokens(_string(calls))
    extra = {k: v for k, v in message.items() if k not in _SKIPPED_MESSAGE_KEYS and v is not None}
    if extra:
        tokens += text_tokens(_json(extra))
    return tokens, images


def _tool_tokens(provider: str, body: Mapping[str, Any]) -> int:
    tokens = 0
    count = 0
    for field in ("tools", "functions"):
        value = body.get(field)
        if isinstance(value, list):
            for tool in value:
                tokens += TOOL_OVERHEAD + text_tokens(_json(tool))
                count += 1
        elif value is not None:
            tokens += text_tokens(_json(value))
    if body.get("tool_choice") is not None:
        tokens += text_tokens(_json(body["tool_choice"]))
    if count and provider == "anthropic":
        tokens += ANTHROPIC_TOOL_PROMPT
    return tokens


def prompt_tokens(provider: str, model: str, body: Mapping[str, Any]) -> PromptCount:
    """Prompt tokens of ``body`` (an OpenAI chat body) as sent to ``provider``/``model``."""
    tokens = REPLY_PRIMING
    images = 0
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in messages:
            counted, seen = _message_tokens(provider, model, message)
            tokens += counted
            images += seen
    tokens += _tool_tokens(provider, body)
    response_format = body.get("response_format")
    if response_format is not None:
        tokens += text_tokens(_json(response_format))
    return PromptCount(tokens, images, tokenizer_name())
