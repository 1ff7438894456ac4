"""Cooldown and request-rate state of provider credentials, shared by every gateway instance."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tollgate.clock import ensure_utc
from tollgate.db.models import CredentialHealth, ProviderCredential

RPM_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class HealthState:
    credential_id: uuid.UUID
    workspace_id: uuid.UUID
    cooldown_until: datetime | None
    consecutive_failures: int
    rpm_limit: int | None


@dataclass(frozen=True)
class RpmWindow:
    count: int
    window_start: datetime


def _insert(session: Session):  # type: ignore[no-untyped-def]
    """The dialect's INSERT with ON CONFLICT support (PostgreSQL and SQLite both have it)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


class CredentialHealthRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def states(self, credential_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, HealthState]:
        ids = list(credential_ids)
        if not ids:
            return {}
        rows = self._session.execute(
            select(
                ProviderCredential.id,
                ProviderCredential.workspace_id,
                ProviderCredential.rpm_limit,
                CredentialHealth.cooldown_until,
                CredentialHealth.consecutive_failures,
            )
            .outerjoin(CredentialHealth, CredentialHealth.credential_id == ProviderCredential.id)
            .where(ProviderCredential.id.in_(ids))
        ).all()
        return {
            row[0]: HealthState(row[0], row[1], ensure_utc(row[3]) if row[3] else None, row[4] or 0, row[2])
            for row in rows
        }

    def record_failure(
        self,
        credential_id: uuid.UUID,
        workspace_id: uuid.UUID,
        error_type: str,
        now: datetime,
        cooldown_until: datetime,
    ) -> None:
        insert = _insert(self._session)
        table = CredentialHealth.__table__
        statement = insert(table).values(
            credential_id=credential_id,
            workspace_id=workspace_id,
            cooldown_until=cooldown_until,
            consecutive_failures=1,
            last_error_type=error_type,
            last_failure_at=now,
            rpm_count=0,
        )
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.credential_id],
            set_={
                "cooldown_until": cooldown_until,
                "consecutive_failures": table.c.consecutive_failures + 1,
                "last_error_type": error_type,
                "last_failure_at": now,
            },
        )
        self._session.execute(statement)

    def record_success(self, credential_id: uuid.UUID, workspace_id: uuid.UUID, now: datetime) -> bool:
        """Clear failures and stamp ``last_success_at``; True only for the one caller that ended a failure
        streak (a conditional UPDATE: concurrent instances cannot both see the recovery)."""
        table = CredentialHealth.__table__
        recovered = self._session.execute(
            update(CredentialHealth)
            .where(CredentialHealth.credential_id == credential_id, CredentialHealth.consecutive_failures > 0)
            .values(cooldown_until=None, consecutive_failures=0, last_success_at=now, failover_alerted_at=None)
        )
        if recovered.rowcount:  # type: ignore[attr-defined]
            return True
        statement = (
            _insert(self._session)(table)
            .values(credential_id=credential_id, workspace_id=workspace_id, rpm_count=0, last_success_at=now)
            .on_conflict_do_update(
                index_elements=[table.c.credential_id], set_={"last_success_at": now, "cooldown_until": None}
            )
        )
        self._session.execute(statement)
        return False

    def claim_failover_alert(self, credential_id: uuid.UUID, now: datetime, window: timedelta) -> bool:
        """True for the one caller that may announce this credential's failover in this cooldown window."""
        result = self._session.execute(
            update(CredentialHealth)
            .where(
                CredentialHealth.credential_id == credential_id,
                CredentialHealth.failover_alerted_at.is_(None) | (CredentialHealth.failover_alerted_at <= now - window),
            )
            .values(failover_alerted_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def due_for_probe(self, now: datetime, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(credential id, workspace id) of active credentials whose cooldown ended without a success since."""
        rows = self._session.execute(
            select(CredentialHealth.credential_id, CredentialHealth.workspace_id)
            .join(ProviderCredential, ProviderCredential.id == CredentialHealth.credential_id)
            .where(
                ProviderCredential.is_active.is_(True),
                CredentialHealth.consecutive_failures > 0,
                CredentialHealth.cooldown_until.is_not(None),
                CredentialHealth.cooldown_until <= now,
            )
            .order_by(CredentialHealth.cooldown_until)
            .limit(limit)
        ).all()
        return [(row[0], row[1]) for row in rows]

    def claim_probe(self, credential_id: uuid.UUID, now: datetime, lease_until: datetime) -> bool:
        """Move an ended cooldown to ``lease_until`` so only this caller probes it now (atomic)."""
        result = self._session.execute(
            update(CredentialHealth)
            .where(
                CredentialHealth.credential_id == credential_id,
                CredentialHealth.consecutive_failures > 0,
                CredentialHealth.cooldown_until <= now,
            )
            .values(cooldown_until=lease_until)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def get(self, credential_id: uuid.UUID) -> CredentialHealth | None:
        return self._session.get(CredentialHealth, credential_id)

    def count_request(self, credential_id: uuid.UUID, workspace_id: uuid.UUID, now: datetime) -> RpmWindow:
        """Count one request in the credential's current one-minute window (atomic upsert)."""
        insert = _insert(self._session)
        table = CredentialHealth.__table__
        in_window = table.c.rpm_window_start.is_not(None) & (table.c.rpm_window_start > now - RPM_WINDOW)
        statement = (
            insert(table)
            .values(credential_id=credential_id, workspace_id=workspace_id, rpm_window_start=now, rpm_count=1)
            .on_conflict_do_update(
                index_elements=[table.c.credential_id],
                set_={
                    "rpm_count": case((in_window, table.c.rpm_count + 1), else_=1),
                    "rpm_window_start": case((in_window, table.c.rpm_window_start), else_=now),
                },
            )
            .returning(table.c.rpm_count, table.c.rpm_window_start)
        )
        count, start = self._session.execute(statement).one()
        return RpmWindow(int(count), ensure_utc(start))
