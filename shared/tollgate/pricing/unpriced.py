"""Pricing a model nobody has priced, for workspaces whose policy is ``estimate``: the price of
the nearest known model of the same provider (the rule is in ``pricing.nearest``). A provider with
no priced model at all cannot be estimated."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from tollgate.alerts.queue import AlertQueue
from tollgate.clock import Clock
from tollgate.errors import PricingUnavailable
from tollgate.pricing.calculator import PriceRow

BLOCK_UNPRICED = "block_unpriced"
ESTIMATE = "estimate"


FREE_SOURCE = "free"
ZERO_RATE = Decimal(0)


def free_price(provider: str, model: str) -> PriceRow:
    """An explicit zero price for a model of a ``free`` credential (a local server): shown as source
    ``free``, never confused with a missing price."""
    return PriceRow(
        id=None, provider=provider, model=model, source=FREE_SOURCE, input_per_1m=ZERO_RATE, output_per_1m=ZERO_RATE
    )


@dataclass(frozen=True)
class PricedAs:
    price: PriceRow
    estimated: bool


class PriceLookup(Protocol):
    def current(self, provider: str, model: str, workspace_id: uuid.UUID | None = None) -> PriceRow | None: ...

    def nearest(self, provider: str, model: str) -> PriceRow | None: ...


def unpriced_hint(provider: str, model: str) -> str:
    """What an admin can do about an unpriced model: both routes work with a workspace admin key."""
    return (
        f"a workspace admin can price it for this workspace with PUT /v1/pricing/{provider}/{model} "
        '(body {"input_per_1m": "…", "output_per_1m": "…"}, USD per 1M tokens), or bill unpriced models '
        'at the nearest known model\'s price with PATCH /v1/workspace {"unpriced_policy": "estimate"}'
    )


def resolve_price(
    prices: PriceLookup, provider: str, model: str, policy: str, workspace_id: uuid.UUID | None = None
) -> PricedAs:
    """The price to bill ``provider/model`` with for ``workspace_id``, following the workspace's
    unpriced policy. Never a silent $0: without a price row (or an estimate) this raises
    ``PricingUnavailable`` (409) naming the routes that fix it."""
    price = prices.current(provider, model, workspace_id)
    if price is not None:
        return PricedAs(price, estimated=False)
    if policy != ESTIMATE:
        raise PricingUnavailable(f"No price is known for {provider}/{model}; {unpriced_hint(provider, model)}")
    nearest = prices.nearest(provider, model)
    if nearest is None:
        raise PricingUnavailable(
            f"No price is known for {provider}/{model} or any other {provider} model; {unpriced_hint(provider, model)}"
        )
    return PricedAs(nearest, estimated=True)


class UnpricedAlerts:
    """Raises ``pricing.model_unpriced`` at most once per (workspace, provider, model) per
    ``every_s`` in this process, so a busy unpriced model does not flood the alert queue."""

    def __init__(self, queue: AlertQueue, clock: Clock, every_s: float = 3600.0) -> None:
        self._queue = queue
        self._clock = clock
        self._every = timedelta(seconds=every_s)
        self._last: dict[tuple[str, str, str], datetime] = {}
        self._lock = threading.Lock()

    def raise_once(self, workspace_id: str, provider: str, model: str, priced_as: PriceRow) -> bool:
        now = self._clock.now()
        key = (workspace_id, provider, model)
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._every:
                return False
            self._last[key] = now
        self._queue.enqueue(
            {
                "event": "pricing.model_unpriced",
                "workspace_id": workspace_id,
                "provider": provider,
                "model": model,
                "priced_as": f"{priced_as.provider}/{priced_as.model}",
                "sent_at": now.isoformat(),
            }
        )
        return True
