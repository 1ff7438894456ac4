"""Anthropic → Anthropic pass-through: the request goes out as the client wrote it (only ``model`` is
replaced by the resolved one) and the answer comes back verbatim. Pure: the adapter does the I/O.

Forwarded headers: ``anthropic-version`` (the client's, else ``2023-06-01``) and ``anthropic-beta``
(the client's flags, then the credential's ``options.beta``). Nothing else of the client's request
reaches Anthropic: its auth headers are the gateway key, replaced by the stored provider key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tollgate.providers.base import Usage
from tollgate.providers.usage_check import token_count

DEFAULT_VERSION = "2023-06-01"


@dataclass(frozen=True)
class NativeHeaders:
    """What the client asked of Anthropic beyond the body."""

    version: str | None = None
    beta: str | None = None

    @classmethod
    def from_request(cls, headers: Mapping[str, str]) -> NativeHeaders:
        return cls(version=headers.get("anthropic-version") or None, beta=headers.get("anthropic-beta") or None)

    def upstream(self, credential_beta: str | None = None) -> dict[str, str]:
        out = {"anthropic-version": self.version or DEFAULT_VERSION}
        flags = [f.strip() for text in (self.beta, credential_beta) if text for f in text.split(",") if f.strip()]
        if flags:
            out["anthropic-beta"] = ",".join(dict.fromkeys(flags))
        return out


def native_body(body: Mapping[str, Any], model: str, *, stream: bool) -> dict[str, Any]:
    """The client's body with the provider's model id; ``stream`` set only when streaming."""
    out = {k: v for k, v in body.items() if k != "stream"}
    out["model"] = model
    if stream:
        out["stream"] = True
    return out


def count_body(body: Mapping[str, Any], model: str) -> dict[str, Any]:
    """The body of ``POST /v1/messages/count_tokens``: the fields that count, with the provider's model id."""
    keep = ("messages", "system", "tools", "tool_choice", "thinking", "mcp_servers")
    out = {k: body[k] for k in keep if k in body}
    out["model"] = model
    return out


def usage_of(usage: Mapping[str, Any], previous: Usage | None = None) -> Usage:
    """Anthropic ``usage`` → normalized classes. ``input_tokens`` excludes cache reads and writes;
    ``output_tokens`` includes thinking; later (cumulative) values replace earlier ones."""
    base = previous or Usage()

    def pick(name: str, default: int) -> int:
        value = token_count(usage.get(name))  # a sane count, else None (providers.usage_check)
        return default if value is None else value

    creation = usage.get("cache_creation")
    write_1h = base.cache_write_1h_tokens
    if isinstance(creation, Mapping) and (value := token_count(creation.get("ephemeral_1h_input_tokens"))) is not None:
        write_1h = value
    details = usage.get("output_tokens_details")
    reasoning = base.reasoning_tokens
    if isinstance(details, Mapping) and (thinking := token_count(details.get("thinking_tokens"))) is not None:
        reasoning = thinking
    return Usage(
        input_tokens=pick("input_tokens", base.input_tokens),
        cache_read_tokens=pick("cache_read_input_tokens", base.cache_read_tokens),
        cache_write_tokens=pick("cache_creation_input_tokens", base.cache_write_tokens),
        cache_write_1h_tokens=write_1h,
        output_tokens=pick("output_tokens", base.output_tokens),
        reasoning_tokens=reasoning,
    )


class NativeStreamMeter:
    """Reads Anthropic stream events for their usage and for the text produced (the estimate when a
    stream is cut before ``message_delta``). ``note`` never changes the event."""

    def __init__(self) -> None:
        self.reported: Usage | None = None
        self.finished = False
        self.produced: list[str] = []

    def note(self, event: Mapping[str, Any]) -> None:
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            self.reported = usage_of(message.get("usage") or {})
        elif kind == "message_delta":
            self.reported = usage_of(event.get("usage") or {}, self.reported)
        elif kind == "content_block_delta":
            delta = event.get("delta") or {}
            for name in ("text", "partial_json", "thinking"):
                value = delta.get(name)
                if isinstance(value, str) and value:
                    self.produced.append(value)
        elif kind == "message_stop":
            self.finished = True
