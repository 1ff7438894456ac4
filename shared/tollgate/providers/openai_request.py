"""OpenAI Chat Completions request → the body an OpenAI-compatible provider accepts.

The body passes through nearly unchanged; what is adjusted (docs/providers.md, "OpenAI-compatible"):

- OpenAI reasoning models (``o1``/``o3``/``o4``…, ``gpt-5`` except ``gpt-5-chat``) refuse ``max_tokens``
  (renamed to ``max_completion_tokens``) and any non-default ``temperature``/``top_p``/penalties/logprobs
  (dropped: the model samples its own way);
- providers other than OpenAI get ``developer`` messages as ``system`` (DeepSeek and most
  self-hosted servers know no ``developer`` role);
- the output cap is sent in exactly one field (``metering.output_cap``: the reserved cap): OpenAI's
  reasoning models get ``max_completion_tokens``, other OpenAI models the caller's field name, every
  other provider ``max_tokens`` (DeepSeek documents no ``max_completion_tokens``);
- DeepSeek gets text-only content arrays as strings; an image part is a 400 naming the field (its
  chat models read text only);
- ``extra_content`` on assistant tool calls (Gemini's thought signatures) is removed: it is
  meaningful to Gemini only.
"""

from __future__ import annotations

import re
from typing import Any

from tollgate.metering.output_cap import CAP_FIELDS, requested_cap
from tollgate.providers.base import ChatRequest
from tollgate.providers.content import parts_of, text_of, unsupported

_REASONING_MODEL = re.compile(r"^(?:openai/)?(?:o\d|gpt-5(?!-chat))")
_REASONING_REFUSED = ("temperature", "top_p", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs")


def is_reasoning_model(model: str) -> bool:
    """OpenAI's reasoning families (o-series, gpt-5 except the chat variants)."""
    return bool(_REASONING_MODEL.match(model))


def _message(provider: str, message: dict[str, Any], where: str) -> dict[str, Any]:
    """``message`` as ``provider`` takes it; the caller's dict itself when nothing changes (copy on
    write: the common message needs no change, and copying every one cost the loop per request)."""
    out = message
    if provider != "openai" and message.get("role") == "developer":
        out = {**message, "role": "system"}
    calls = message.get("tool_calls")
    if isinstance(calls, list) and any(isinstance(call, dict) and "extra_content" in call for call in calls):
        out = {**out} if out is message else out
        out["tool_calls"] = [
            {k: v for k, v in call.items() if k != "extra_content"} if isinstance(call, dict) else call
            for call in calls
        ]
    content = message.get("content")
    if provider == "deepseek" and isinstance(content, list):
        for index, part in enumerate(parts_of(content)):
            if part.get("type") != "text":
                raise unsupported(
                    provider, f"{where}.content[{index}].type", f"content parts of type {part.get('type')!r}"
                )
        out = {**out} if out is message else out
        out["content"] = text_of(content)
    return out


def openai_body(provider: str, request: ChatRequest, stream: bool) -> dict[str, Any]:
    """The body sent to ``provider``'s ``/chat/completions``; streams always ask for usage."""
    body = {k: v for k, v in request.body.items() if k not in ("stream", "stream_options")}
    body["model"] = request.model
    body["messages"] = [
        _message(provider, m, f"messages[{i}]") if isinstance(m, dict) else m for i, m in enumerate(request.messages)
    ]
    # Exactly one cap field, the request's one cap (``metering.output_cap``: the service has put the
    # reserved cap there); OpenAI's reasoning models take only ``max_completion_tokens``, the other
    # providers (DeepSeek included) ``max_tokens``.
    requested = requested_cap(request.body)
    for name in CAP_FIELDS:
        body.pop(name, None)
    reasoning = provider == "openai" and is_reasoning_model(request.model)
    if reasoning:
        for name in _REASONING_REFUSED:
            body.pop(name, None)
    if requested is not None:
        limit, source = requested
        if provider != "openai":
            source = "max_tokens"
        elif reasoning:
            source = "max_completion_tokens"
        body[source] = limit
    if stream:
        body["stream"] = True
        body["stream_options"] = {**(request.body.get("stream_options") or {}), "include_usage": True}
    return body
