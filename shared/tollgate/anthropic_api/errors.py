"""The gateway's errors in Anthropic's shape, with the statuses Anthropic's SDKs and Claude Code expect.

Body: ``{"type": "error", "error": {"type", "message"}, "request_id"}``; headers ``request-id`` and
``x-request-id`` carry the gateway's request id, ``retry-after`` is kept on 429.

| gateway error | status | Anthropic type | why |
|---|---|---|---|
| invalid_request_error 400/405/422 | same | invalid_request_error | |
| invalid_request_error 413 | 413 | request_too_large | Anthropic's own spelling |
| not_found_error, unknown model (404) | 404 | not_found_error | |
| authentication_error | 401 | authentication_error | |
| permission_error | 403 | permission_error | |
| budget_exceeded | 402 | billing_error | like an exhausted balance; the SDK does not retry 402 |
| provider_quota_error (upstream credit exhausted) | 402 | billing_error | the same, one hop further |
| provider_auth_error (stored key rejected) | 403 | permission_error | a 401 would make clients re-ask the user's key |
| rate_limit_error | 429 | rate_limit_error | |
| pricing_unavailable (block_unpriced) | 400 | invalid_request_error | a 409 would be retried by the SDK to no avail |
| guardrail_blocked, any other 4xx | same | invalid_request_error | the request is refused; an SDK retries a 5xx |
| provider_unavailable 503 (overloaded) | 529 | overloaded_error | |
| provider_unavailable 504 | 504 | timeout_error | |
| provider_unavailable 502, internal_error | 500 / 502 / 503 | api_error | |
"""

from __future__ import annotations

from typing import Any

from tollgate.errors import TollgateError

_BY_TYPE: dict[str, tuple[int | None, str]] = {
    "authentication_error": (401, "authentication_error"),
    "permission_error": (403, "permission_error"),
    "not_found_error": (404, "not_found_error"),
    "budget_exceeded": (402, "billing_error"),
    "provider_quota_error": (402, "billing_error"),
    "provider_auth_error": (403, "permission_error"),
    "rate_limit_error": (429, "rate_limit_error"),
    "pricing_unavailable": (400, "invalid_request_error"),
}


def anthropic_status_and_type(error: TollgateError) -> tuple[int, str]:
    """(HTTP status, Anthropic ``error.type``) for a gateway error (table in the module docstring)."""
    status = error.http_status
    if error.type in _BY_TYPE:
        fixed, kind = _BY_TYPE[error.type]
        return fixed or status, kind
    if error.type == "invalid_request_error":
        if status == 404:
            return 404, "not_found_error"
        if status == 413:
            return 413, "request_too_large"
        return status, "invalid_request_error"
    if error.type == "provider_unavailable":
        if status == 503:
            return 529, "overloaded_error"
        if status == 504:
            return 504, "timeout_error"
    if status < 500:  # any other refusal of the request (guardrail_blocked, ...) keeps its 4xx
        return status, "invalid_request_error"
    return status, "api_error"


def anthropic_error_body(error: TollgateError, request_id: str) -> dict[str, Any]:
    _, kind = anthropic_status_and_type(error)
    return {"type": "error", "error": {"type": kind, "message": error.message}, "request_id": request_id}
