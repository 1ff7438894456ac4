"""Upstream failures, classified once by each adapter from status codes and structured error fields."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tollgate.errors import TollgateError


class FailureKind(StrEnum):
    AUTH = "auth"  # 401/403: the stored key was rejected
    QUOTA = "quota"  # credits / quota exhausted: terminal for this credential
    RATE_LIMIT = "rate_limit"  # 429 that will pass with time
    OVERLOADED = "overloaded"  # 529 / 503 overloaded
    SERVER = "server"  # 5xx
    TIMEOUT = "timeout"
    NETWORK = "network"
    BAD_REQUEST = "bad_request"  # 400/422: the request itself is wrong
    NOT_FOUND = "not_found"  # unknown model / endpoint
    CONFLICT = "conflict"  # 408/409
    PROTOCOL = "protocol"  # the upstream answered something we cannot parse
    BLOCKED = "blocked_target"  # the base URL resolves to an address the outbound rule refuses


def kind_for_status(status: int) -> FailureKind:
    """The classification by HTTP status alone; adapters refine it with structured error fields."""
    if status in (401, 403):
        return FailureKind.AUTH
    if status == 402:
        return FailureKind.QUOTA
    if status == 404:
        return FailureKind.NOT_FOUND
    if status in (408, 409):
        return FailureKind.CONFLICT
    if status == 429:
        return FailureKind.RATE_LIMIT
    if status in (503, 529):
        return FailureKind.OVERLOADED
    if status == 504:
        return FailureKind.TIMEOUT
    if status >= 500:
        return FailureKind.SERVER
    return FailureKind.BAD_REQUEST


_MESSAGES = {
    FailureKind.AUTH: "rejected the API key",
    FailureKind.QUOTA: "reports that the account's quota or credits are exhausted",
    FailureKind.RATE_LIMIT: "is rate limiting this key",
    FailureKind.OVERLOADED: "is overloaded",
    FailureKind.SERVER: "returned a server error",
    FailureKind.TIMEOUT: "did not answer in time",
    FailureKind.NETWORK: "could not be reached",
    FailureKind.BAD_REQUEST: "refused the request as invalid",
    FailureKind.NOT_FOUND: "does not know this model",
    FailureKind.CONFLICT: "asked to retry the request",
    FailureKind.PROTOCOL: "sent a response Tollgate could not read",
    FailureKind.BLOCKED: "was not called: its base URL resolves to a refused address",
}


# Structured error fields (a type, a code, a parameter path) are identifiers; anything else (free
# text, which may quote the prompt or a key) never passes.
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\[\]-]{0,127}")


def safe_token(value: object) -> str | None:
    """``value`` when it is an identifier-like structured field (``invalid_request_error``,
    ``messages[1].content``, ``max_tokens``), else None: free text never reaches a message."""
    return value if isinstance(value, str) and _TOKEN.fullmatch(value) else None


def upstream_error(
    provider: str,
    kind: FailureKind,
    *,
    status: int | None = None,
    retry_after_s: float | None = None,
    error_type: object = None,
    param: object = None,
) -> ProviderCallError:
    """A classified failure with a message of ours (never the upstream body). ``error_type`` and
    ``param`` are the provider's structured fields; they are kept only if ``safe_token`` passes them."""
    suffix = f" (HTTP {status})" if status else ""
    reason_type, reason_param = safe_token(error_type), safe_token(param)
    reason = ", ".join(
        part
        for part in (reason_type and f"error type {reason_type}", reason_param and f"parameter {reason_param}")
        if part
    )
    message = f"{provider} {_MESSAGES[kind]}{suffix}" + (f": {reason}" if reason else "")
    return ProviderCallError(
        kind, message, provider=provider, status=status, retry_after_s=retry_after_s, param=reason_param
    )


RETRYABLE = frozenset(
    {
        FailureKind.RATE_LIMIT,
        FailureKind.OVERLOADED,
        FailureKind.SERVER,
        FailureKind.TIMEOUT,
        FailureKind.NETWORK,
        FailureKind.CONFLICT,
    }
)
FAILOVER = RETRYABLE | {FailureKind.AUTH, FailureKind.QUOTA}


class ProviderCallError(Exception):
    """Raised by adapters. ``message`` is ours, never the upstream body or any header value."""

    def __init__(
        self,
        kind: FailureKind,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retry_after_s: float | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.provider = provider
        self.status = status
        self.retry_after_s = retry_after_s
        self.param = param  # the request field the provider named, already passed through safe_token

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE


def to_gateway_error(exc: ProviderCallError) -> TollgateError:
    """Map an upstream failure (after retries and failover) to the documented error (docs/api.md) a client sees."""
    from tollgate import errors

    provider = exc.provider
    if exc.kind is FailureKind.AUTH:
        return errors.ProviderAuthError(f"The {provider} API rejected the stored key; check your {provider} key")
    if exc.kind is FailureKind.QUOTA:
        return errors.ProviderQuotaError(f"The {provider} account has no quota or credits left")
    if exc.kind is FailureKind.RATE_LIMIT:
        retry_after = str(max(1, round(exc.retry_after_s or 1)))
        return errors.RateLimited(f"{provider} is rate limiting this workspace", headers={"retry-after": retry_after})
    if exc.kind is FailureKind.BAD_REQUEST:
        # exc.message already reads "<provider> refused the request as invalid (HTTP 400): <reason>"
        details = {"param": exc.param} if exc.param else None
        return errors.InvalidRequest(exc.message, code="upstream_bad_request", details=details)
    if exc.kind is FailureKind.NOT_FOUND:
        return errors.InvalidRequest(f"{provider} does not know this model", code="unknown_model", status=404)
    if exc.kind is FailureKind.TIMEOUT:
        return errors.ProviderUnavailable(f"{provider} timed out", code="upstream_timeout", status=504)
    if exc.kind is FailureKind.OVERLOADED:
        return errors.ProviderUnavailable(
            f"{provider} is overloaded; try again shortly", code="upstream_overloaded", status=503
        )
    if exc.kind is FailureKind.NETWORK:
        return errors.ProviderUnavailable(f"{provider} could not be reached", code="upstream_unreachable", status=502)
    if exc.kind is FailureKind.BLOCKED:
        from tollgate.providers.guard import RULE

        return errors.ProviderUnavailable(f"{provider} was not called: {RULE}", code="base_url_blocked", status=424)
    return errors.ProviderUnavailable(f"{provider} is unavailable ({exc.kind.value})", status=502)
