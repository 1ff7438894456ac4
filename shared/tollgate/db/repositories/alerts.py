"""Alert bookkeeping: the exactly-once claim (alerts_sent), channels and per-channel cooldowns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tollgate.db.dialects import dialect_insert
from tollgate.db.models import AlertChannel, AlertCooldown, AlertSent


class AlertSentRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def claim(
        self, workspace_id: uuid.UUID, budget_id: uuid.UUID, period_start: datetime, threshold: str, now: datetime
    ) -> uuid.UUID | None:
        """Insert the (budget, period_start, threshold) row; its id if this call inserted it, else None."""
        alert_id = uuid.uuid4()
        statement = (
            dialect_insert(self._session.get_bind().dialect.name, AlertSent.__table__)
            .values(
                id=alert_id,
                workspace_id=workspace_id,
                budget_id=budget_id,
                period_start=period_start,
                threshold=threshold,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["budget_id", "period_start", "threshold"])
            .returning(AlertSent.id)
        )
        return self._session.execute(statement).scalar_one_or_none()

    def mark_enqueued(self, alert_ids: Sequence[uuid.UUID], now: datetime) -> None:
        if alert_ids:
            self._session.execute(update(AlertSent).where(AlertSent.id.in_(list(alert_ids))).values(enqueued_at=now))

    def pending(self, created_before: datetime, limit: int) -> Sequence[AlertSent]:
        query = (
            select(AlertSent)
            .where(AlertSent.enqueued_at.is_(None), AlertSent.created_at < created_before)
            .order_by(AlertSent.created_at)
            .limit(limit)
        )
        return self._session.scalars(query).all()

    def thresholds(self, budget_id: uuid.UUID, period_start: datetime) -> list[str]:
        query = select(AlertSent.threshold).where(
            AlertSent.budget_id == budget_id, AlertSent.period_start == period_start
        )
        return list(self._session.scalars(query).all())

    def notified(self, budget_id: uuid.UUID, period_start: datetime) -> list[str]:
        """Thresholds of the period whose current alert reached at least one channel."""
        query = (
            select(AlertSent.threshold)
            .join(AlertCooldown, AlertCooldown.alert_id == AlertSent.id)
            .where(AlertSent.budget_id == budget_id, AlertSent.period_start == period_start)
            .distinct()
        )
        return list(self._session.scalars(query).all())

    def hold(self, alert_id: uuid.UUID) -> None:
        """Put a claimed alert back in the outbox (``enqueued_at`` NULL): the sweeper re-publishes it."""
        self._session.execute(update(AlertSent).where(AlertSent.id == alert_id).values(enqueued_at=None))

    def forget_period(self, budget_id: uuid.UUID, period_start: datetime) -> None:
        self._session.execute(
            delete(AlertSent).where(AlertSent.budget_id == budget_id, AlertSent.period_start == period_start)
        )


class AlertChannelRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, row: AlertChannel) -> AlertChannel:
        self._session.add(row)
        self._session.flush()
        return row

    def get(self, workspace_id: uuid.UUID, channel_id: uuid.UUID) -> AlertChannel | None:
        query = select(AlertChannel).where(
            AlertChannel.workspace_id == workspace_id,
            AlertChannel.id == channel_id,
            AlertChannel.deleted_at.is_(None),
        )
        return self._session.scalars(query).first()

    def existing_ids(self, workspace_id: uuid.UUID, channel_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        if not channel_ids:
            return set()
        query = select(AlertChannel.id).where(
            AlertChannel.workspace_id == workspace_id,
            AlertChannel.id.in_(list(channel_ids)),
            AlertChannel.deleted_at.is_(None),
        )
        return set(self._session.scalars(query).all())

    def list_page(self, workspace_id: uuid.UUID, limit: int, after: uuid.UUID | None) -> Sequence[AlertChannel]:
        query = select(AlertChannel).where(AlertChannel.workspace_id == workspace_id, AlertChannel.deleted_at.is_(None))
        if after is not None:
            query = query.where(AlertChannel.id > after)
        return self._session.scalars(query.order_by(AlertChannel.id).limit(limit)).all()

    def active(self, workspace_id: uuid.UUID) -> Sequence[AlertChannel]:
        """Every channel of the workspace that is not deleted (a workspace has a handful)."""
        query = select(AlertChannel).where(AlertChannel.workspace_id == workspace_id, AlertChannel.deleted_at.is_(None))
        return self._session.scalars(query.order_by(AlertChannel.created_at)).all()

    def record_sent(
        self,
        *,
        channel_id: uuid.UUID,
        budget_id: uuid.UUID,
        period_start: datetime,
        threshold: str,
        alert_id: uuid.UUID,
        now: datetime,
    ) -> None:
        """Remember that this alert reached this channel (the cooldown and retry-skip key)."""
        insert = dialect_insert(self._session.get_bind().dialect.name, AlertCooldown.__table__).values(
            channel_id=channel_id,
            budget_id=budget_id,
            period_start=period_start,
            threshold=threshold,
            alert_id=alert_id,
            sent_at=now,
        )
        self._session.execute(
            insert.on_conflict_do_update(
                index_elements=["channel_id", "budget_id", "period_start", "threshold"],
                set_={"alert_id": insert.excluded.alert_id, "sent_at": insert.excluded.sent_at},
            )
        )
        self.touch(channel_id, now)

    def touch(self, channel_id: uuid.UUID, now: datetime) -> None:
        self._session.execute(update(AlertChannel).where(AlertChannel.id == channel_id).values(last_sent_at=now))
