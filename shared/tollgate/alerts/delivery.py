"""Delivering one queued alert to its channels (the same code behind SQS and the local queue).

Per channel: SSRF re-check at send time, a bounded retry with backoff on network errors, 429 and
5xx, and a cooldown per (channel, budget, period, threshold). Each (budget, period, threshold) is
delivered once per channel: channels that already got this alert are skipped on a retry. The
cooldown may delay a delivery, never drop it: a channel that got an earlier alert for the same
(budget, period, threshold) less than ``cooldown_s`` ago (a reset budget re-crossing a threshold)
is held — the alert goes back to the outbox and the sweeper re-publishes it until the cooldown has
passed. A new period's alert is never held by the previous period's. Any channel that still fails
makes the whole message fail, so the queue retries it and finally dead-letters it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol

import httpx
from sqlalchemy.orm import Session, sessionmaker

from tollgate.alerts.events import channel_events, group_of
from tollgate.alerts.formats import discord_body, email_text, slack_body
from tollgate.alerts.signing import SIGNATURE_HEADER, sign
from tollgate.clock import Clock
from tollgate.db.models import AlertCooldown
from tollgate.db.repositories.alerts import AlertChannelRepository, AlertSentRepository
from tollgate.fx_display import alert_display
from tollgate.keys.wrapping import KeyWrapper
from tollgate.observability import logger
from tollgate.ssrf import Resolver, UnsafeTarget, check_target, system_resolver

CHANNEL_SECRET_PURPOSE = "alert_channel_secret"  # noqa: S105 - an encryption-context label, not a secret
_RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


class Cooldown(Enum):
    SEND = "send"  # never delivered for this (budget, period, threshold), or the cooldown has passed
    DONE = "done"  # this very alert already reached the channel (a retried message)
    HOLD = "hold"  # an earlier alert of the same key reached it less than the cooldown ago


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str) -> None: ...


class DeliveryFailed(Exception):
    """A channel did not accept the alert. ``reason`` is safe to show (no secrets, no bodies)."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class NoMailer:
    def send(self, to: str, subject: str, text: str) -> None:
        """Raises ``DeliveryFailed`` (not retryable): no mailer is configured."""
        raise DeliveryFailed(
            "email is not configured (set TOLLGATE_SES_FROM_ADDRESS to send through SES)", retryable=False
        )


def secret_context(workspace_id: uuid.UUID, channel_id: uuid.UUID) -> dict[str, str]:
    return {"workspace_id": str(workspace_id), "channel_id": str(channel_id), "purpose": CHANNEL_SECRET_PURPOSE}


@dataclass(frozen=True)
class Target:
    id: uuid.UUID
    type: str
    address: str  # URL or email address, decrypted when it is a secret (Slack/Discord URLs)
    secret: bytes | None
    events: tuple[str, ...] = ("budget",)


class AlertDelivery:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        key_wrapper: KeyWrapper,
        clock: Clock,
        mailer: Mailer,
        http: httpx.Client,
        *,
        allow_local: bool,
        cooldown_s: float = 3600.0,
        attempts: int = 3,
        backoff_s: float = 0.5,
        resolve: Resolver = system_resolver,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sessions = sessions
        self._wrapper = key_wrapper
        self._clock = clock
        self._mailer = mailer
        self._http = http
        self._allow_local = allow_local
        self._cooldown = timedelta(seconds=cooldown_s)
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._resolve = resolve
        self._sleep = sleep

    def deliver(self, message: Mapping[str, Any]) -> int:
        """Send the alert to each of its channels; returns how many got it now. Raises DeliveryFailed."""
        if group_of(str(message.get("kind", ""))) != "budget":
            return self.deliver_to_subscribers(message)
        workspace_id = uuid.UUID(str(message["workspace_id"]))
        alert_id = uuid.UUID(str(message["alert_id"]))
        budget_id = uuid.UUID(str(message["payload"]["budget_id"]))
        threshold = str(message.get("threshold_key") or message["payload"]["threshold"])
        period_start = datetime.fromisoformat(str(message["payload"]["period_start"]))
        failures: list[str] = []
        sent = 0
        with self._sessions() as session:  # the workspace's display currency, at the rate now
            shown = alert_display(session, workspace_id, message["payload"], self._clock.now())
        held = False
        for raw in message.get("channel_ids") or []:
            channel_id = uuid.UUID(str(raw))
            target = self.load(workspace_id, channel_id)
            if target is None or "budget" not in target.events:
                continue  # gone, or the channel did not subscribe to budget alerts
            state = self._cooling_down(channel_id, budget_id, period_start, threshold, alert_id)
            if state is Cooldown.DONE:
                continue
            if state is Cooldown.HOLD:
                held = True
                continue
            payload = {**message["payload"], **shown, "sent_at": self._clock.now().isoformat()}
            try:
                self.send(target, payload, delivery_id=str(alert_id))
            except DeliveryFailed as exc:
                failures.append(f"{channel_id}: {exc.reason}")
                continue
            self._record(channel_id, budget_id, period_start, threshold, alert_id)
            sent += 1
        if held:
            self._hold(alert_id)
        if failures:
            raise DeliveryFailed("; ".join(failures))
        return sent

    def deliver_to_subscribers(self, message: Mapping[str, Any]) -> int:
        """An event that names no channels (``provider.*``, ...): every channel of the workspace whose
        ``events`` include the event's group gets it. A failed channel fails the message (the queue retries)."""
        workspace_id = uuid.UUID(str(message["workspace_id"]))
        group = group_of(str(message["kind"]))
        with self._sessions() as session:
            rows = [r for r in AlertChannelRepository(session).active(workspace_id) if group in channel_events(r)]
        failures: list[str] = []
        for row in rows:
            target = self.load(workspace_id, row.id)
            if target is None:
                continue
            payload = {**message["payload"], "sent_at": self._clock.now().isoformat()}
            try:
                self.send(target, payload, delivery_id=str(message["alert_id"]))
            except DeliveryFailed as exc:
                failures.append(f"{row.id}: {exc.reason}")
        if failures:
            raise DeliveryFailed("; ".join(failures))
        return len(rows) - len(failures)

    def load(self, workspace_id: uuid.UUID, channel_id: uuid.UUID) -> Target | None:
        with self._sessions() as session:
            row = AlertChannelRepository(session).get(workspace_id, channel_id)
        if row is None:
            return None
        secret = None
        if row.secret_ciphertext is not None:
            secret = self._wrapper.decrypt(row.secret_ciphertext, secret_context(workspace_id, channel_id))
        address = row.target
        if row.type in ("slack", "discord") and secret is not None:
            address, secret = secret.decode(), None
        return Target(row.id, row.type, address, secret, tuple(channel_events(row)))

    def send(self, target: Target, payload: dict[str, Any], *, delivery_id: str) -> None:
        """Deliver one alert to one target. Raises ``DeliveryFailed`` (``retryable`` says whether to try again)."""
        if target.type == "email":
            subject, text = email_text(payload)
            self._mailer.send(target.address, subject, text)
            return
        try:
            check_target(target.address, allow_local=self._allow_local, resolve=self._resolve)
        except UnsafeTarget as exc:
            raise DeliveryFailed(exc.message, retryable=False) from None
        headers = {"content-type": "application/json", "user-agent": "Tollgate-Alerts/1"}
        if target.type == "slack":
            body = json.dumps(slack_body(payload)).encode()
        elif target.type == "discord":
            body = json.dumps(discord_body(payload)).encode()
        else:
            body = json.dumps(payload, separators=(",", ":")).encode()
            headers["x-tollgate-event"] = str(payload.get("event"))
            headers["x-tollgate-delivery"] = delivery_id
            if target.secret is not None:
                headers[SIGNATURE_HEADER] = sign(target.secret, body, int(self._clock.now().timestamp()))
        self._post(target.address, body, headers)

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        reason = "not attempted"
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(self._backoff_s * 2 ** (attempt - 1))
            try:
                response = self._http.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                reason = f"network error ({type(exc).__name__})"
                continue
            if response.status_code < 300:
                return
            reason = f"receiver answered HTTP {response.status_code}"
            if response.status_code not in _RETRYABLE:
                break
        logger.warning("alert delivery failed", extra={"reason": reason})
        raise DeliveryFailed(reason)

    def _cooling_down(
        self, channel_id: uuid.UUID, budget_id: uuid.UUID, period_start: datetime, threshold: str, alert_id: uuid.UUID
    ) -> Cooldown:
        with self._sessions() as session:
            row = session.get(AlertCooldown, (channel_id, budget_id, period_start, threshold))
        if row is None:
            return Cooldown.SEND
        if row.alert_id == alert_id:  # this alert already reached this channel (a retried message)
            return Cooldown.DONE
        return Cooldown.HOLD if _after(row.sent_at, self._clock.now() - self._cooldown) else Cooldown.SEND

    def _record(
        self, channel_id: uuid.UUID, budget_id: uuid.UUID, period_start: datetime, threshold: str, alert_id: uuid.UUID
    ) -> None:
        now = self._clock.now()
        with self._sessions.begin() as session:
            AlertChannelRepository(session).record_sent(
                channel_id=channel_id,
                budget_id=budget_id,
                period_start=period_start,
                threshold=threshold,
                alert_id=alert_id,
                now=now,
            )

    def _hold(self, alert_id: uuid.UUID) -> None:
        with self._sessions.begin() as session:
            AlertSentRepository(session).hold(alert_id)
        logger.info("alert held by a channel cooldown; the sweeper re-publishes it", extra={"alert_id": str(alert_id)})


def _after(value: datetime, cutoff: datetime) -> bool:
    return value > cutoff
