"""Structured JSON logging (powertools Logger) with key redaction on every emitted line.

The request id and workspace of the request being served live in contextvars, not thread-locals:
they follow the request across ``await`` points and into the worker threads it uses (the pools copy
the context), and a thread or task that served one request never logs the next one as it.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from tollgate.keys.redaction import redact

_request_keys: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "tollgate_request_keys", default=None
)


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Formats as powertools JSON with the current request's keys, then redacts the whole line
    (message, extras and tracebacks)."""

    def format(self, record: logging.LogRecord) -> str:
        keys = _request_keys.get()
        if keys:
            for name, value in keys.items():
                if name not in record.__dict__:
                    setattr(record, name, value)
        return redact(super().format(record))


logger = Logger(service="tollgate", logger_formatter=RedactingFormatter(), use_rfc3339=True)


def bind_request(request_id: str, **keys: Any) -> None:
    """Set the log keys of the request served in the current context (replaces earlier ones).

    Callers bind at the start of a request in a fresh context (an ASGI request task, a Lambda
    invocation), so nothing leaks from one request to the next."""
    _request_keys.set({"request_id": request_id, **keys})


def bind_more(**keys: Any) -> None:
    """Add keys (e.g. the workspace once the key is authenticated) to the current request's."""
    _request_keys.set({**(_request_keys.get() or {}), **keys})


def request_keys() -> dict[str, Any]:
    """The log keys bound to the current context (tests and diagnostics)."""
    return dict(_request_keys.get() or {})


def log_at(level: int, message: str, **extra: Any) -> None:
    """Log at a numeric level (errors carry their own level) through the powertools logger."""
    emit = {logging.DEBUG: logger.debug, logging.INFO: logger.info, logging.WARNING: logger.warning}.get(
        level, logger.error
    )
    emit(message, extra=extra)
