"""Test a credential with a real, cheap provider call and report ``{ok, latency_ms, error}``."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tollgate.errors import TollgateError
from tollgate.observability import logger
from tollgate.providers.base import ProviderTarget
from tollgate.providers.errors import FailureKind, ProviderCallError, to_gateway_error
from tollgate.providers.registry import ProviderRegistry


@dataclass(frozen=True)
class CheckError:
    type: str
    message: str


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    latency_ms: int
    error: CheckError | None = None


def check_target(providers: ProviderRegistry, target: ProviderTarget) -> CheckResult:
    if target.provider not in providers.names:
        return CheckResult(
            ok=False,
            latency_ms=0,
            error=CheckError("invalid_request_error", f"No adapter for provider '{target.provider}' in this gateway"),
        )
    adapter = providers.get(target.provider)
    started = time.perf_counter()
    error: CheckError | None = None
    try:
        adapter.verify(target)
    except ProviderCallError as exc:
        error = _from_provider_error(exc)
    except TollgateError as exc:
        error = CheckError(exc.type, exc.message)
    except Exception as exc:  # an adapter bug must not leak its message (it could carry headers)
        logger.warning("credential check failed unexpectedly", provider=target.provider, error=type(exc).__name__)
        error = CheckError("provider_unavailable", f"The {target.provider} check failed ({type(exc).__name__})")
    latency_ms = round((time.perf_counter() - started) * 1000)
    return CheckResult(ok=error is None, latency_ms=latency_ms, error=error)


def _from_provider_error(exc: ProviderCallError) -> CheckError:
    if exc.kind is FailureKind.NOT_FOUND:
        return CheckError("invalid_request_error", f"{exc.provider} answered 404: check the base_url")
    mapped = to_gateway_error(exc)
    if isinstance(mapped, TollgateError):
        return CheckError(mapped.type, mapped.message)
    return CheckError("provider_unavailable", exc.message)
