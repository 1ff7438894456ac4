"""Helpers for reading OpenAI chat messages when translating them to another provider's format."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tollgate.errors import InvalidRequest
from tollgate.metering.output_cap import requested_cap


@dataclass(frozen=True)
class ImageRef:
    url: str | None = None  # a remote URL
    media_type: str | None = None  # set with ``data`` for inline (data:) images
    data: str | None = None  # base64


def parts_of(content: Any) -> list[dict[str, Any]]:
    """Content as a list of OpenAI parts (a plain string becomes one text part)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if isinstance(content, list):
        return [part for part in content if isinstance(part, dict)]
    raise InvalidRequest("messages[].content: must be a string or a list of parts", code="validation_error")


def text_of(content: Any) -> str:
    """The text parts of a content value, joined (non-text parts are dropped)."""
    return "".join(str(part.get("text", "")) for part in parts_of(content) if part.get("type") == "text")


def image_of(part: dict[str, Any]) -> ImageRef:
    """The image URL and detail of an ``image_url`` part.
    Raises ``InvalidRequest`` naming the field when it has no URL."""
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        raise InvalidRequest("messages[].content[].image_url.url: required", code="validation_error")
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        media_type = header.removeprefix("data:").split(";")[0] or "image/png"
        return ImageRef(media_type=media_type, data=data)
    return ImageRef(url=url)


def tool_arguments(call: dict[str, Any]) -> dict[str, Any]:
    """Parse an OpenAI tool call's JSON ``arguments`` string into an object."""
    raw = (call.get("function") or {}).get("arguments") or "{}"
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError):
        raise InvalidRequest(
            "messages[].tool_calls[].function.arguments: must be JSON", code="validation_error"
        ) from None
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def function_tools(body: dict[str, Any] | Any) -> list[dict[str, Any]]:
    """The ``function`` objects of OpenAI ``tools`` (other tool types are not translatable)."""
    tools = body.get("tools") or []
    return [t["function"] for t in tools if isinstance(t, dict) and isinstance(t.get("function"), dict)]


def stop_list(stop: Any) -> list[str]:
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list):
        return [s for s in stop if isinstance(s, str)]
    return []


def json_instruction(response_format: Any) -> str | None:
    """A system instruction asking for JSON, for providers without a native JSON mode."""
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return "Respond with a single valid JSON object and nothing else."
    if kind == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        return "Respond with a single valid JSON object matching this JSON Schema and nothing else: " + json.dumps(
            schema, separators=(",", ":")
        )
    return None


def max_output_tokens(body: Any, default: int | None = None) -> int | None:
    """The request's output cap (``metering.output_cap.requested_cap``: explicit null = absent)."""
    requested = requested_cap(body)
    return requested[0] if requested is not None else default


def unsupported(provider: str, param: str, why: str) -> InvalidRequest:
    """The gateway's 400 for an OpenAI field ``provider`` cannot express (dropping it would change
    the answer). ``param`` is the field's path, also returned as ``error.param``."""
    return InvalidRequest(
        f"{param}: {why}; {provider} cannot express it", code="unsupported_parameter", details={"param": param}
    )


def require_single_choice(body: Any, provider: str) -> None:
    """``n`` > 1 asks for several answers; only OpenAI-compatible providers return more than one."""
    n = body.get("n")
    if isinstance(n, int) and not isinstance(n, bool) and n > 1:
        raise unsupported(provider, "n", "only one choice per request is supported")


def tool_call_names(messages: list[dict[str, Any]]) -> dict[str, str]:
    """Tool call id → function name over the whole history (tool results carry only the id)."""
    names: dict[str, str] = {}
    for message in messages:
        for call in message.get("tool_calls") or ():
            if isinstance(call, dict):
                names[str(call.get("id"))] = str((call.get("function") or {}).get("name"))
    return names
