"""Pricing a model nobody has priced, for workspaces whose policy is ``estimate``.

Rule for "the nearest known model of the same provider", among the provider's currently priced,
non-free models (case-insensitive):
1. a model whose whole id starts the requested id at a separator (``gpt-4o`` for
   ``gpt-4o-2099-01-01``: a dated or suffixed variant) — the longest such id;
2. otherwise the model sharing the longest common prefix with the requested id;
ties go to the dearest (highest output, then input rate), so an estimate errs towards using up
budget, not towards under-billing. With nothing in common the provider's dearest model is used.
A provider with no priced model at all cannot be estimated.
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tollgate.alerts.queue import AlertQueue
from tollgate.clock import Clock
from tollgate.db.models import ModelPrice
from tollgate.errors import PricingUnavailable
from tollgate.pricing.calculator import PriceRow
from tollgate.pricing.precedence import best_of, to_price_row

BLOCK_UNPRICED = "block_unpriced"
ESTIMATE = "estimate"


@dataclass(frozen=True)
class PricedAs:
    price: PriceRow
    estimated: bool


def common_prefix(a: str, b: str) -> int:
    size = 0
    for left, right in zip(a.lower(), b.lower(), strict=False):
        if left != right:
            break
        size += 1
    return size


_SEPARATORS = "-_.:@/"


def is_variant_of(requested: str, base: str) -> bool:
    requested, base = requested.lower(), base.lower()
    return requested.startswith(base) and (len(requested) == len(base) or requested[len(base)] in _SEPARATORS)


def pick_nearest(model: str, candidates: list[PriceRow]) -> PriceRow | None:
    paid = [c for c in candidates if c.input_per_1m > 0 or c.output_per_1m > 0]
    if not paid:
        return None
    return max(
        paid,
        key=lambda c: (
            len(c.model) if is_variant_of(model, c.model) else 0,
            common_prefix(model, c.model),
            c.output_per_1m,
            c.input_per_1m,
            c.model,
        ),
    )


def nearest_price(session: Session, provider: str, model: str) -> PriceRow | None:
    rows = session.scalars(
        select(ModelPrice).where(ModelPrice.provider == provider, ModelPrice.effective_to.is_(None))
    ).all()
    by_model: dict[str, list[ModelPrice]] = defaultdict(list)
    for row in rows:
        by_model[row.model].append(row)
    candidates = [to_price_row(best) for group in by_model.values() if (best := best_of(group)) is not None]
    return pick_nearest(model, candidates)


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
