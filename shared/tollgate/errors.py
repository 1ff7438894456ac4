"""The error taxonomy (docs/api.md, "Errors"): one class per row of the error table, rendered by one mapper."""

from __future__ import annotations

import logging
from typing import Any, ClassVar


class TollgateError(Exception):
    """A failure with a documented HTTP shape. Messages must never carry key material or prompts."""

    type: ClassVar[str] = "internal_error"
    status: ClassVar[int] = 500
    log_level: ClassVar[int] = logging.ERROR
    default_code: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.http_status = status or self.status
        self.headers = headers or {}
        self.details = details or {}

    def body(self, request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "type": self.type,
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
        }
        error.update(self.details)
        return {"error": error}


class InvalidRequest(TollgateError):
    type = "invalid_request_error"
    status = 400
    log_level = logging.INFO
    default_code = "invalid_request"


class AuthenticationFailed(TollgateError):
    type = "authentication_error"
    status = 401
    log_level = logging.INFO
    default_code = "invalid_api_key"


class PermissionDenied(TollgateError):
    type = "permission_error"
    status = 403
    log_level = logging.INFO
    default_code = "forbidden"


class NotFound(TollgateError):
    type = "not_found_error"
    status = 404
    log_level = logging.INFO
    default_code = "not_found"


class Conflict(TollgateError):
    type = "invalid_request_error"
    status = 409
    log_level = logging.INFO
    default_code = "conflict"


class BudgetExceeded(TollgateError):
    type = "budget_exceeded"
    status = 402
    log_level = logging.INFO
    default_code = "budget_exceeded"


class RateLimited(TollgateError):
    type = "rate_limit_error"
    status = 429
    log_level = logging.WARNING
    default_code = "rate_limited"


class ProviderAuthError(TollgateError):
    type = "provider_auth_error"
    status = 424
    log_level = logging.WARNING
    default_code = "provider_key_rejected"


class ProviderQuotaError(TollgateError):
    type = "provider_quota_error"
    status = 424
    log_level = logging.WARNING
    default_code = "provider_quota_exhausted"


class ProviderUnavailable(TollgateError):
    type = "provider_unavailable"
    status = 502
    log_level = logging.WARNING
    default_code = "provider_unavailable"


class PricingUnavailable(TollgateError):
    type = "pricing_unavailable"
    status = 409
    log_level = logging.INFO
    default_code = "model_unpriced"


class ServiceUnavailable(TollgateError):
    """The gateway cannot serve safely (e.g. database unreachable): fail closed."""

    type = "internal_error"
    status = 503
    log_level = logging.ERROR
    default_code = "service_unavailable"


class InternalError(TollgateError):
    type = "internal_error"
    status = 500
    default_code = "internal_error"
