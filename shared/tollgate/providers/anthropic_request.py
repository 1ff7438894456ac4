"""OpenAI Chat Completions request → Anthropic Messages request (``anthropic-version: 2023-06-01``).

What is sent is what the Messages API accepts (docs/providers.md, "Anthropic"):

- no empty or whitespace-only ``text`` blocks (Anthropic answers 400 "text content blocks must
  contain non-whitespace text"); a message left without content is dropped and its neighbours of the
  same role merge (Anthropic combines consecutive same-role turns itself, we do it explicitly);
- a final assistant message (a prefill) loses its trailing whitespace (400 "final assistant content
  cannot end with trailing whitespace");
- ``tool_result`` blocks come first in their user turn;
- ``cache_control`` on system and message parts is kept; the system prompt is sent as blocks when
  any of its parts carries one, else as one string;
- ``temperature`` and ``top_p`` together: only ``temperature`` is sent (newer Claude models refuse the
  pair); ``temperature`` is clamped to Anthropic's [0, 1];
- fields Anthropic cannot express and whose loss would change the answer raise the gateway's 400
  (``n`` > 1, whitespace-only stop sequences, audio/file parts other than PDF).
"""

from __future__ import annotations

from typing import Any

from tollgate.errors import InvalidRequest
from tollgate.metering.output_cap import DEFAULT_OUTPUT_CAP
from tollgate.providers.base import ChatRequest
from tollgate.providers.content import (
    function_tools,
    image_of,
    json_instruction,
    max_output_tokens,
    parts_of,
    require_single_choice,
    stop_list,
    tool_arguments,
    unsupported,
)

PROVIDER = "anthropic"
# Anthropic requires ``max_tokens``: the request's one cap (``metering.output_cap``; the execute
# service always sets the reserved cap), else the gateway's default cap.
DEFAULT_MAX_TOKENS = DEFAULT_OUTPUT_CAP
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def _with_cache(part: dict[str, Any], block: dict[str, Any]) -> dict[str, Any]:
    """Carry an OpenAI part's ``cache_control`` (Anthropic's prompt-cache breakpoint) onto its block."""
    if isinstance(part.get("cache_control"), dict):
        block["cache_control"] = part["cache_control"]
    return block


def _text_block(part: dict[str, Any]) -> dict[str, Any] | None:
    text = part.get("text")
    if not isinstance(text, str) or not text.strip():
        return None  # Anthropic refuses empty and whitespace-only text blocks
    return _with_cache(part, {"type": "text", "text": text})


def _file_block(part: dict[str, Any], where: str) -> dict[str, Any]:
    data = (part.get("file") or {}).get("file_data")
    if isinstance(data, str) and data.startswith("data:application/pdf;base64,"):
        source = {"type": "base64", "media_type": "application/pdf", "data": data.partition(",")[2]}
        return _with_cache(part, {"type": "document", "source": source})
    raise unsupported(PROVIDER, where, "only PDF files sent inline as a data URL are supported")


def _image_block(part: dict[str, Any], where: str) -> dict[str, Any]:
    image = image_of(part)
    if image.data is None:
        return _with_cache(part, {"type": "image", "source": {"type": "url", "url": image.url}})
    if image.media_type not in IMAGE_TYPES:
        raise unsupported(PROVIDER, where, "images must be JPEG, PNG, GIF or WebP")
    source = {"type": "base64", "media_type": image.media_type, "data": image.data}
    return _with_cache(part, {"type": "image", "source": source})


def _user_blocks(content: Any, where: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for index, part in enumerate(parts_of(content)):
        kind, path = part.get("type"), f"{where}.content[{index}]"
        block: dict[str, Any] | None
        if kind == "text":
            block = _text_block(part)
        elif kind == "image_url":
            block = _image_block(part, path)
        elif kind == "file":
            block = _file_block(part, path)
        else:
            raise unsupported(PROVIDER, f"{path}.type", f"content parts of type {kind!r} are not supported")
        if block is not None:
            blocks.append(block)
    return blocks


def _assistant_blocks(message: dict[str, Any], where: str) -> list[dict[str, Any]]:
    blocks = [b for part in parts_of(message.get("content")) if (b := _text_block(part)) is not None]
    for index, call in enumerate(message.get("tool_calls") or ()):
        name, call_id = (call.get("function") or {}).get("name"), call.get("id")
        if not isinstance(call_id, str) or not call_id or not isinstance(name, str) or not name:
            raise InvalidRequest(f"{where}.tool_calls[{index}]: id and function.name are required")
        blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": tool_arguments(call)})
    return blocks


def _tool_result(message: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.get("tool_call_id")}
    blocks = [b for part in parts_of(message.get("content")) if (b := _text_block(part)) is not None]
    if any("cache_control" in b for b in blocks):
        result["content"] = blocks
    elif blocks:
        result["content"] = "".join(b["text"] for b in blocks)
    return result  # an empty result omits ``content`` (an empty text block would be refused)


def _append(messages: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    """Consecutive same-role messages are merged; in a user turn tool results come first."""
    if not blocks:
        return
    if messages and messages[-1]["role"] == role:
        merged = messages[-1]["content"] + blocks
        if role == "user":
            merged.sort(key=lambda b: b.get("type") != "tool_result")  # stable: keeps each group's order
        messages[-1]["content"] = merged
    else:
        messages.append({"role": role, "content": list(blocks)})


def _strip_prefill(messages: list[dict[str, Any]]) -> None:
    """A final assistant turn is a prefill: Anthropic refuses trailing whitespace at its end."""
    if not messages or messages[-1]["role"] != "assistant":
        return
    blocks = messages[-1]["content"]
    if blocks and blocks[-1].get("type") == "text":
        text = blocks[-1]["text"].rstrip()
        if text:
            blocks[-1] = {**blocks[-1], "text": text}
        else:
            blocks.pop()
    if not blocks:
        messages.pop()


def _conversation(request: ChatRequest) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(request.messages):
        role, where = message.get("role"), f"messages[{index}]"
        if role in ("system", "developer"):
            system.extend(b for part in parts_of(message.get("content")) if (b := _text_block(part)) is not None)
        elif role == "user":
            _append(messages, "user", _user_blocks(message.get("content"), where))
        elif role == "assistant":
            _append(messages, "assistant", _assistant_blocks(message, where))
        elif role in ("tool", "function"):
            _append(messages, "user", [_tool_result(message)])
        else:
            raise InvalidRequest(f"{where}.role: must be system, developer, user, assistant or tool")
    _strip_prefill(messages)
    if not messages:
        raise InvalidRequest("messages: at least one user or assistant message with non-blank content is required")
    return system, messages


def _system_field(system: list[dict[str, Any]]) -> str | list[dict[str, Any]] | None:
    if not system:
        return None
    if any("cache_control" in block for block in system):
        return system  # blocks keep their cache breakpoints
    return "\n\n".join(block["text"] for block in system)


def _sampling(out: dict[str, Any], body: Any) -> None:
    temperature, top_p = body.get("temperature"), body.get("top_p")
    if isinstance(temperature, int | float) and not isinstance(temperature, bool):
        out["temperature"] = min(1.0, float(temperature))  # Anthropic's range is [0, 1]
    elif isinstance(top_p, int | float) and not isinstance(top_p, bool):
        out["top_p"] = top_p  # with temperature it is dropped: newer models refuse both together
    stops = [s for s in stop_list(body.get("stop")) if s]
    if any(not s.strip() for s in stops):
        raise unsupported(PROVIDER, "stop", "stop sequences must contain non-whitespace characters")
    if stops:
        out["stop_sequences"] = stops


def to_anthropic(request: ChatRequest, stream: bool) -> dict[str, Any]:
    """The Messages API body for ``request``. Raises ``InvalidRequest`` (400) for what cannot be sent."""
    body = request.body
    require_single_choice(body, PROVIDER)
    system, messages = _conversation(request)
    instruction = json_instruction(body.get("response_format"))
    if instruction:
        system.append({"type": "text", "text": instruction})
    out: dict[str, Any] = {
        "model": request.model,
        "max_tokens": max_output_tokens(body, DEFAULT_MAX_TOKENS),
        "messages": messages,
    }
    system_field = _system_field(system)
    if system_field is not None:
        out["system"] = system_field
    _sampling(out, body)
    _add_tools(out, body)
    if isinstance(body.get("user"), str) and body["user"]:
        out["metadata"] = {"user_id": body["user"]}
    if stream:
        out["stream"] = True
    return out


def _add_tools(out: dict[str, Any], body: Any) -> None:
    tools = function_tools(body)
    if not tools:
        return  # a tool_choice without tools constrains nothing: dropped
    out["tools"] = [
        {
            "name": f.get("name"),
            "description": f.get("description", ""),
            "input_schema": f.get("parameters") or {"type": "object"},
        }
        for f in tools
    ]
    choice = _tool_choice(body.get("tool_choice"))
    if body.get("parallel_tool_calls") is False and (choice or {}).get("type") != "none":
        choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
    if choice:
        out["tool_choice"] = choice


def _tool_choice(choice: Any) -> dict[str, Any] | None:
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    if choice == "none":
        return {"type": "none"}
    if isinstance(choice, dict) and isinstance(choice.get("function"), dict):
        return {"type": "tool", "name": choice["function"].get("name")}
    return None
