"""Anthropic Messages API and OpenAI embeddings requests: validated where Tollgate relies on a field,
kept as sent otherwise (``extra='allow'``), so a pass-through to Anthropic loses nothing."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AnthropicMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["user", "assistant"]
    content: str | list[dict[str, Any]]


class MessagesRequest(BaseModel):
    """``POST /v1/messages``. ``max_tokens`` is required, as on Anthropic. Typed fields are strict, as
    Anthropic's API is (``"max_tokens": "5"`` is a 400, not 5)."""

    model_config = ConfigDict(extra="allow", strict=True)

    model: str = Field(min_length=1, max_length=300)
    max_tokens: int = Field(ge=1, le=1_000_000)
    messages: list[AnthropicMessage] = Field(min_length=1, max_length=10_000)
    system: str | list[dict[str, Any]] | None = None
    stream: bool = False
    stop_sequences: list[str] | None = None
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class CountTokensRequest(BaseModel):
    """``POST /v1/messages/count_tokens``: a Messages request without ``max_tokens``."""

    model_config = ConfigDict(extra="allow", strict=True)

    model: str = Field(min_length=1, max_length=300)
    messages: list[AnthropicMessage] = Field(min_length=1, max_length=10_000)
    system: str | list[dict[str, Any]] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: dict[str, Any] | None = None
    thinking: dict[str, Any] | None = None


class AnthropicErrorDetail(BaseModel):
    type: str
    message: str


class AnthropicErrorBody(BaseModel):
    """Anthropic's error shape, used by ``/v1/messages`` and ``/v1/messages/count_tokens``."""

    type: Literal["error"] = "error"
    error: AnthropicErrorDetail
    request_id: str


class CountTokensOut(BaseModel):
    input_tokens: int


MAX_EMBEDDING_INPUTS = 2048


class EmbeddingsRequest(BaseModel):
    """``POST /v1/embeddings`` in OpenAI's shape: ``input`` is a string, a list of strings, a token
    array or a list of token arrays (at most 2048 items, none empty). Typed fields are strict, as
    OpenAI's API is (``"dimensions": "256"`` is a 400)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    model: str = Field(min_length=1, max_length=300)
    input: str | list[str] | list[int] | list[list[int]]
    dimensions: int | None = Field(default=None, ge=1, le=65_536)
    encoding_format: Literal["float", "base64"] = "float"
    user: str | None = Field(default=None, max_length=256)
    metadata: dict[str, Any] | None = None

    @field_validator("input")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, str | list) and not value:
            raise ValueError("must not be empty")
        if isinstance(value, list):
            if len(value) > MAX_EMBEDDING_INPUTS:
                raise ValueError(f"at most {MAX_EMBEDDING_INPUTS} items")
            if any(isinstance(item, str | list) and not item for item in value):
                raise ValueError("items must not be empty")
        return value
