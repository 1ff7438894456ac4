"""Alert event names and the groups a channel subscribes to with ``events``.

Groups: ``budget`` (thresholds; the default), ``provider`` (``provider.failover``, ``provider.recovered``),
``guardrail`` and ``pricing``.
"""

from __future__ import annotations

from tollgate.db.models import AlertChannel

PROVIDER_FAILOVER = "provider.failover"
PROVIDER_RECOVERED = "provider.recovered"
EVENT_GROUPS = ("budget", "provider", "guardrail", "pricing")
DEFAULT_EVENTS = ("budget",)


def group_of(event: str) -> str:
    """``provider.failover`` → ``provider``; the group a channel subscribes to with ``events``."""
    return event.split(".", 1)[0]


def channel_events(channel: AlertChannel) -> list[str]:
    """The event groups a channel subscribed to; channels made before ``events`` existed get budgets only."""
    events = (channel.options or {}).get("events")
    return list(events) if isinstance(events, list) and events else list(DEFAULT_EVENTS)
