"""OpenAI Chat Completions request, validated where Tollgate relies on a field, passed through otherwise."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class StreamOptions(BaseModel):
    """OpenAI's ``stream_options``; Tollgate reads ``include_usage`` (the final usage chunk) and always
    asks the provider for usage itself. Other options are forwarded."""

    model_config = ConfigDict(extra="allow", strict=True)

    include_usage: bool | None = None


class ChatCompletionRequest(BaseModel):
    """Unknown OpenAI parameters are kept and forwarded (``extra='allow'``). Typed fields are strict,
    as OpenAI's API is: ``"stream": "true"`` or ``"max_tokens": "5"`` is a 400 naming the field, not
    a value guessed from a string (an integer is still accepted where a number is expected)."""

    model_config = ConfigDict(extra="allow", strict=True)

    model: str = Field(min_length=1, max_length=300)
    messages: list[ChatMessage] = Field(min_length=1, max_length=10_000)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=1)
    stop: str | list[str] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    owned_by: str
    input_per_1m: str | None = None
    output_per_1m: str | None = None
    price_source: str | None = None
