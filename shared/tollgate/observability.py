"""Structured JSON logging (powertools Logger) with key redaction on every emitted line."""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from tollgate.keys.redaction import redact


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Formats as powertools JSON, then redacts the whole line (message, extras and tracebacks)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


logger = Logger(service="tollgate", logger_formatter=RedactingFormatter(), use_rfc3339=True)


def bind_request(request_id: str, **keys: Any) -> None:
    logger.thread_safe_append_keys(request_id=request_id, **keys)


def log_at(level: int, message: str, **extra: Any) -> None:
    """Log at a numeric level (errors carry their own level) through the powertools logger."""
    emit = {logging.DEBUG: logger.debug, logging.INFO: logger.info, logging.WARNING: logger.warning}.get(
        level, logger.error
    )
    emit(message, extra=extra)
