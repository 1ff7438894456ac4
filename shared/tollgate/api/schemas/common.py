"""Shapes shared by every area: errors, pagination."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tollgate.errors import InvalidRequest


class Strict(BaseModel):
    """Request bodies reject unknown fields, so typos fail loudly instead of being ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ErrorDetail(BaseModel):
    type: str
    code: str
    message: str
    request_id: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class PageQuery(Strict):
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=512)


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The text an opaque cursor encodes (None: no cursor). Raises ``InvalidRequest`` for one that is not ours."""
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidRequest("query.cursor: not a valid cursor", code="validation_error") from None


def page(items: list[Any], limit: int, cursor_of: Any) -> dict[str, Any]:
    """``items`` was fetched with ``limit + 1`` rows; the extra row only says there is more."""
    has_more = len(items) > limit
    items = items[:limit]
    next_cursor = encode_cursor(cursor_of(items[-1])) if has_more and items else None
    return {"data": items, "next_cursor": next_cursor}
