"""Anthropic Messages API ⇄ the gateway's internal OpenAI Chat Completions body. Pure: no I/O.

Request (``to_openai``): the Anthropic body becomes an OpenAI chat body that every adapter reads.
``system`` (string or text blocks) becomes a system message; ``cache_control`` stays on the text
parts (the Anthropic adapter re-emits it, other adapters ignore it); ``tool_use``/``tool_result``
become ``tool_calls``/``tool`` messages; images become ``image_url`` parts; ``stop_sequences``
becomes ``stop``; ``metadata.user_id`` becomes ``user``. Dropped without harm (the answer is still
correct, only less elaborate): ``thinking`` (the request option and earlier thinking blocks),
``top_k``, ``service_tier``, cache breakpoints on providers without them. Refused (listed in
``Translated.refused``; the caller answers 400 naming them when the target is not Anthropic):
features with no OpenAI-shaped equivalent: documents, server tools, MCP servers, containers,
search results and Files API sources.

Response (``to_anthropic_message``): an OpenAI ``chat.completion`` becomes an Anthropic ``message``
with ``usage`` in Anthropic's semantics (``input_tokens`` uncached, cache read/write apart).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tollgate.providers.base import Usage

STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}
_REFUSED_FIELDS = {"mcp_servers": "mcp_servers", "container": "container", "context_management": "context_management"}


@dataclass
class Translated:
    body: dict[str, Any]
    refused: list[str] = field(default_factory=list)

    def refusal_message(self, provider: str) -> str:
        features = ", ".join(dict.fromkeys(self.refused))
        return f"{features} cannot be expressed on provider '{provider}'; use an anthropic/... model for them"


def _text_part(block: dict[str, Any]) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "text", "text": str(block.get("text", ""))}
    if isinstance(block.get("cache_control"), dict):
        part["cache_control"] = block["cache_control"]
    return part


def _image_part(block: dict[str, Any], out: Translated) -> dict[str, Any] | None:
    source = block.get("source")
    kind = source.get("type") if isinstance(source, dict) else None
    if isinstance(source, dict) and kind == "base64":
        url = f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
    elif isinstance(source, dict) and kind == "url":
        url = str(source.get("url", ""))
    else:
        out.refused.append(f"image source '{kind}'")
        return None
    return {"type": "image_url", "image_url": {"url": url}}


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def _user_message(content: Any, out: Translated) -> list[dict[str, Any]]:
    """One Anthropic user turn → ``tool`` messages (results first, as OpenAI requires) + a user message."""
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    messages: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in content if isinstance(content, list) else ():
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            parts.append(_text_part(block))
        elif kind == "image":
            image = _image_part(block, out)
            if image is not None:
                parts.append(image)
        elif kind == "tool_result":
            text = _result_text(block.get("content"))
            if block.get("is_error"):
                text = f"Error: {text}"
            messages.append({"role": "tool", "tool_call_id": block.get("tool_use_id"), "content": text})
        elif kind not in ("thinking", "redacted_thinking"):
            out.refused.append(f"{kind} blocks")
    if parts:
        messages.append({"role": "user", "content": parts})
    return messages


def _assistant_message(content: Any) -> dict[str, Any]:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in content if isinstance(content, list) else ():
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            text.append(str(block.get("text", "")))
        elif kind == "tool_use":
            arguments = json.dumps(block.get("input") or {}, separators=(",", ":"))
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": arguments},
                }
            )
    message: dict[str, Any] = {"role": "assistant", "content": "".join(text) if text or not calls else None}
    if calls:
        message["tool_calls"] = calls
    return message


def _system_message(system: Any) -> dict[str, Any] | None:
    if isinstance(system, str):
        return {"role": "system", "content": system} if system else None
    if isinstance(system, list):
        parts = [_text_part(b) for b in system if isinstance(b, dict) and b.get("type") == "text"]
        return {"role": "system", "content": parts} if parts else None
    return None


def _tools(request: dict[str, Any], out: Translated) -> None:
    tools = []
    for tool in request.get("tools") or ():
        kind = tool.get("type")
        if kind not in (None, "custom"):
            out.refused.append(f"server tool '{kind}'")
            continue
        function: dict[str, Any] = {"name": tool.get("name"), "parameters": tool.get("input_schema") or {}}
        if tool.get("description"):
            function["description"] = tool["description"]
        tools.append({"type": "function", "function": function})
    if tools:
        out.body["tools"] = tools
    choice = request.get("tool_choice")
    if isinstance(choice, dict):
        mapped = {"auto": "auto", "any": "required", "none": "none"}.get(str(choice.get("type")))
        if choice.get("type") == "tool":
            out.body["tool_choice"] = {"type": "function", "function": {"name": choice.get("name")}}
        elif mapped:
            out.body["tool_choice"] = mapped
        if choice.get("disable_parallel_tool_use") is True and tools:
            out.body["parallel_tool_calls"] = False


def to_openai(request: dict[str, Any]) -> Translated:
    """An Anthropic Messages request (already schema-validated) → the internal OpenAI chat body."""
    out = Translated(body={"model": request["model"], "max_tokens": request["max_tokens"]})
    messages: list[dict[str, Any]] = []
    system = _system_message(request.get("system"))
    if system is not None:
        messages.append(system)
    for message in request.get("messages") or ():
        if message.get("role") == "assistant":
            messages.append(_assistant_message(message.get("content")))
        else:
            messages.extend(_user_message(message.get("content"), out))
    out.body["messages"] = messages
    for name in ("temperature", "top_p", "stream"):
        if request.get(name) is not None:
            out.body[name] = request[name]
    if request.get("stop_sequences"):
        out.body["stop"] = list(request["stop_sequences"])
    user = (request.get("metadata") or {}).get("user_id")
    if isinstance(user, str) and user:
        out.body["user"] = user
    _tools(request, out)
    out.refused.extend(label for name, label in _REFUSED_FIELDS.items() if request.get(name))
    return out


def anthropic_usage_object(usage: Usage) -> dict[str, Any]:
    """Normalized usage → Anthropic's ``usage`` (``input_tokens`` excludes cache reads and writes)."""
    write_1h = min(usage.cache_write_1h_tokens, usage.cache_write_tokens)
    return {
        "input_tokens": usage.input_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.cache_write_tokens - write_1h,
            "ephemeral_1h_input_tokens": write_1h,
        },
        "output_tokens": usage.output_tokens,
    }


def tool_input(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments or "{}")
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def to_anthropic_message(completion: dict[str, Any], model: str, usage: Usage) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` (one choice) → an Anthropic ``message``."""
    choices = completion.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    message = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    text = message.get("content")
    if isinstance(text, str) and text:
        content.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id"),
                "name": function.get("name"),
                "input": tool_input(function.get("arguments")),
            }
        )
    return {
        "id": anthropic_message_id(str(completion.get("id") or "")),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": STOP_REASONS.get(str(choice.get("finish_reason")), "end_turn"),
        "stop_sequence": None,
        "usage": anthropic_usage_object(usage),
    }


def anthropic_message_id(upstream_id: str) -> str:
    return upstream_id if upstream_id.startswith("msg_") else f"msg_{upstream_id or 'tollgate'}"
