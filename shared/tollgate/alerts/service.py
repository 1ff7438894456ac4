"""Alert channels: create (secrets encrypted through the KeyWrapper), list, delete, test send.

Secrets never stored in plaintext: the HMAC secret of a generic webhook, and the whole URL of a
Slack or Discord incoming webhook (those URLs are bearer secrets; ``target`` keeps a masked hint).
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from tollgate.alerts.delivery import AlertDelivery, DeliveryFailed, secret_context
from tollgate.clock import Clock
from tollgate.db.models import AlertChannel
from tollgate.db.repositories.alerts import AlertChannelRepository
from tollgate.errors import InvalidRequest, NotFound
from tollgate.keys.wrapping import KeyWrapper
from tollgate.ssrf import Resolver, check_target, system_resolver

_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


@dataclass(frozen=True)
class CreatedChannel:
    row: AlertChannel
    secret: str | None  # generated webhook secret, shown once


@dataclass(frozen=True)
class TestOutcome:
    ok: bool
    latency_ms: int
    error: str | None


def mask_url(url: str) -> str:
    head, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    return f"{head}://{host}/…{url[-4:]}"


class AlertChannelService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        key_wrapper: KeyWrapper,
        clock: Clock,
        delivery: AlertDelivery,
        *,
        allow_local: bool,
        resolve: Resolver = system_resolver,
    ) -> None:
        self._sessions = sessions
        self._wrapper = key_wrapper
        self._clock = clock
        self._delivery = delivery
        self._allow_local = allow_local
        self._resolve = resolve

    def create(
        self,
        workspace_id: uuid.UUID,
        kind: str,
        target: str,
        secret: str | None,
        *,
        events: tuple[str, ...] = ("budget",),
    ) -> CreatedChannel:
        """Add a channel; ``events`` are the groups it gets (tollgate.alerts.events.EVENT_GROUPS).
        Raises ``InvalidRequest`` for an unsafe or malformed target, or a secret on a non-webhook channel."""
        generated = None
        if kind == "email":
            if not _EMAIL.match(target):
                raise InvalidRequest("body.target: not an email address", code="validation_error")
            if secret is not None:
                raise InvalidRequest("body.secret: only webhook channels take a secret", code="validation_error")
        else:
            check_target(target, allow_local=self._allow_local, resolve=self._resolve)
            if kind in ("slack", "discord") and secret is not None:
                raise InvalidRequest("body.secret: only webhook channels take a secret", code="validation_error")
            if kind == "webhook" and secret is None:
                secret = generated = "whsec_" + secrets.token_urlsafe(32)
        channel_id = uuid.uuid4()
        sealed = secret.encode() if secret is not None else target.encode() if kind in ("slack", "discord") else None
        row = AlertChannel(
            id=channel_id,
            workspace_id=workspace_id,
            type=kind,
            target=mask_url(target) if kind in ("slack", "discord") else target,
            secret_ciphertext=None
            if sealed is None
            else self._wrapper.encrypt(sealed, secret_context(workspace_id, channel_id)),
            options={"events": list(events)},
            created_at=self._clock.now(),
        )
        with self._sessions.begin() as session:
            AlertChannelRepository(session).add(row)
        return CreatedChannel(row, generated)

    def list_page(self, workspace_id: uuid.UUID, limit: int, after: uuid.UUID | None) -> Sequence[AlertChannel]:
        with self._sessions() as session:
            return AlertChannelRepository(session).list_page(workspace_id, limit, after)

    def delete(self, workspace_id: uuid.UUID, channel_id: uuid.UUID) -> AlertChannel:
        """Soft-delete a channel. Raises ``NotFound`` for an unknown id or another workspace's."""
        with self._sessions.begin() as session:
            row = AlertChannelRepository(session).get(workspace_id, channel_id)
            if row is None:
                raise NotFound("No such alert channel")
            row.deleted_at = self._clock.now()
            row.secret_ciphertext = None  # the secret is destroyed with the channel
        return row

    def test(self, workspace_id: uuid.UUID, channel_id: uuid.UUID) -> TestOutcome:
        """Send a test alert now. Raises ``NotFound`` for an unknown id or another workspace's."""
        target = self._delivery.load(workspace_id, channel_id)
        if target is None:
            raise NotFound("No such alert channel")
        payload = {
            "event": "alert_channel.test",
            "workspace_id": str(workspace_id),
            "channel_id": str(channel_id),
            "sent_at": self._clock.now().isoformat(),
        }
        started = time.perf_counter()
        try:
            self._delivery.send(target, payload, delivery_id=f"test-{uuid.uuid4()}")
        except DeliveryFailed as exc:
            return TestOutcome(False, _ms(started), exc.reason)
        return TestOutcome(True, _ms(started), None)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
