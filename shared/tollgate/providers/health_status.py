"""What ``GET /v1/credentials/{id}/health`` reports, derived from the shared ``credential_health`` row.

States: ``cooling_down`` while ``cooldown_until`` is in the future (the invoker tries other credentials
first); ``failing`` once the cooldown ended with no success since (the next call or the background probe
decides); ``healthy`` otherwise. ``rpm_used`` counts requests in the current one-minute window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from tollgate.clock import ensure_utc
from tollgate.db.models import CredentialHealth
from tollgate.db.repositories.credential_health import RPM_WINDOW

State = Literal["healthy", "cooling_down", "failing"]


@dataclass(frozen=True)
class HealthStatus:
    state: State
    cooldown_until: datetime | None
    consecutive_failures: int
    last_error_type: str | None
    last_success_at: datetime | None
    rpm_used: int


def _utc(value: datetime | None) -> datetime | None:
    return ensure_utc(value) if value is not None else None


def health_status(row: CredentialHealth | None, now: datetime) -> HealthStatus:
    """The status of a credential whose health row is ``row`` (None: never failed, never counted)."""
    if row is None:
        return HealthStatus("healthy", None, 0, None, None, 0)
    cooldown_until = _utc(row.cooldown_until)
    state: State = "healthy"
    if cooldown_until is not None and cooldown_until > now:
        state = "cooling_down"
    elif row.consecutive_failures > 0:
        state = "failing"
    window_start = _utc(row.rpm_window_start)
    rpm_used = row.rpm_count if window_start is not None and window_start > now - RPM_WINDOW else 0
    return HealthStatus(
        state=state,
        cooldown_until=cooldown_until if state != "healthy" else None,
        consecutive_failures=row.consecutive_failures,
        last_error_type=row.last_error_type,
        last_success_at=_utc(row.last_success_at),
        rpm_used=rpm_used,
    )
