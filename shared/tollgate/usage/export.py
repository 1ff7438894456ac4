"""Streaming CSV / JSON Lines export: rows flow from a server-side cursor straight into chunks.

Memory stays flat: at most one batch of rows and one chunk of text are held at a time. An
optional byte cap (AWS Lambda buffers responses and refuses bodies over 6 MB) stops the stream at
a row boundary and reports the cursor of the last row written, so the caller can continue.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from tollgate.db.repositories.usage_queries import EXPORT_COLUMNS, Cursor, stream_rows
from tollgate.fx_display import DisplayCurrency
from tollgate.money import format_usd
from tollgate.usage.filters import UsageFilter

CHUNK_ROWS = 500
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


@dataclass(frozen=True)
class ExportRequest:
    filter: UsageFilter
    format: str = "csv"
    cursor: Cursor | None = None
    limit: int | None = None
    max_bytes: int | None = None
    display: DisplayCurrency | None = None  # adds display_currency and cost_display (rate at created_at)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format_usd(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


DISPLAY_COLUMNS = ("display_currency", "cost_display")


def record_dict(row: Any, display: DisplayCurrency | None = None) -> dict[str, Any]:
    record = {name: _plain(getattr(row, name)) for name in EXPORT_COLUMNS}
    if display is not None:
        record["display_currency"] = display.currency
        record["cost_display"] = display.text(row.cost_usd, row.created_at)
    return record


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return json.dumps(value, separators=(",", ":"))
    return value


class _Encoder:
    """Encodes rows into a pending chunk and counts its size in bytes (the Lambda cap is in bytes)."""

    def __init__(self, fmt: str, display: DisplayCurrency | None = None) -> None:
        self.fmt = fmt
        self._display = display
        self._columns = (*EXPORT_COLUMNS, *DISPLAY_COLUMNS) if display is not None else tuple(EXPORT_COLUMNS)
        self._line = io.StringIO()
        self._csv = csv.writer(self._line, lineterminator="\n")
        self._pending: list[bytes] = []
        self._size = 0

    def _encode(self, record: dict[str, Any] | None) -> bytes:
        if self.fmt != "csv":
            return (json.dumps(record, separators=(",", ":")) + "\n").encode()
        self._line.seek(0)
        self._line.truncate()
        cells = self._columns if record is None else [_csv_cell(record[name]) for name in self._columns]
        self._csv.writerow(cells)
        return self._line.getvalue().encode()

    def header(self) -> bytes:
        return self._encode(None) if self.fmt == "csv" else b""

    def add(self, row: Any) -> int:
        """Queue one row; returns its encoded size in bytes."""
        data = self._encode(record_dict(row, self._display))
        self._pending.append(data)
        self._size += len(data)
        return len(data)

    def drop_last(self) -> None:
        self._size -= len(self._pending.pop())

    @property
    def size(self) -> int:
        return self._size

    def take(self) -> bytes:
        chunk = b"".join(self._pending)
        self._pending, self._size = [], 0
        return chunk


def export_chunks(
    engine: Engine,
    request: ExportRequest,
    *,
    on_truncated: Callable[[Cursor], None] | None = None,
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """Yield the export in chunks of ~CHUNK_ROWS rows inside one read-only transaction.

    When ``limit`` or ``max_bytes`` stops the export before the last row, ``on_truncated`` gets
    the cursor to continue from (the same keyset cursor ``GET /v1/usage`` uses).
    """
    encoder = _Encoder(request.format, request.display)
    header = encoder.header()
    sent = len(header)
    if header:
        yield header
    with engine.connect() as connection:
        connection.execution_options(tollgate_readonly=True)  # SQLite: deferred BEGIN, writers not blocked
        with connection.begin():
            written = pending = 0
            last: Cursor | None = None
            for row in stream_rows(connection, request.filter, request.cursor):
                encoder.add(row)
                over_limit = request.limit is not None and written >= request.limit
                over_bytes = request.max_bytes is not None and sent + encoder.size > request.max_bytes
                if last is not None and (over_limit or over_bytes):
                    encoder.drop_last()
                    if on_truncated is not None:
                        on_truncated(last)
                    break
                last, pending, written = (row.created_at, row.id), pending + 1, written + 1
                if pending >= CHUNK_ROWS:
                    chunk = encoder.take()
                    sent += len(chunk)
                    if on_rows is not None:
                        on_rows(pending)
                    pending = 0
                    yield chunk
            tail = encoder.take()
            if on_rows is not None and pending:
                on_rows(pending)
            if tail:
                yield tail
