"""The list routes keyed by id: ``GET /v1/<things>?limit=&cursor=`` over a service's ``list_page``.

The cursor is the opaque encoding of the last id of the previous page (``schemas.common``); the
service is asked for ``limit + 1`` rows, the extra one only says there is more.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from pydantic import BaseModel

from tollgate.api.context import RequestContext
from tollgate.api.http import ApiResponse, json_response
from tollgate.api.schemas.common import PageQuery, decode_cursor, page
from tollgate.errors import InvalidRequest
from tollgate.ids import parse_uuid


class _WithId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


Row = TypeVar("Row")
Out = TypeVar("Out", bound=BaseModel)


def cursor_uuid(cursor: str | None) -> uuid.UUID | None:
    """The id a ``query.cursor`` encodes (None: the first page).

    Raises ``InvalidRequest`` (``validation_error``) for a cursor that is not one of ours."""
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    value = parse_uuid(raw)
    if value is None:
        raise InvalidRequest("query.cursor: not a valid cursor", code="validation_error")
    return value


def id_page(
    ctx: RequestContext,
    list_page: Callable[[int, uuid.UUID | None], Sequence[Row]],
    to_out: Callable[[Row], Out],
) -> ApiResponse:
    """One page: ``list_page(limit + 1, after_id)`` rendered with ``to_out``, ``next_cursor`` the
    last row's id. Raises ``InvalidRequest`` for a bad ``limit`` or ``cursor``."""
    query = ctx.query(PageQuery)
    items = [to_out(row) for row in list_page(query.limit + 1, cursor_uuid(query.cursor))]
    return json_response(page(items, query.limit, _id_of))


def _id_of(item: _WithId) -> str:
    return str(item.id)
