"""Current prices by (provider, model) for a workspace, read from ``model_prices``.

The winner among the sources is picked by ``pricing.precedence`` (the one precedence rule).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, sessionmaker

from tollgate.db.models import ModelPrice
from tollgate.pricing.calculator import PriceRow
from tollgate.pricing.nearest import pick_nearest
from tollgate.pricing.precedence import best_of, to_price_row


def current_price(
    session: Session, provider: str, model: str, workspace_id: uuid.UUID | None = None
) -> PriceRow | None:
    """The price ``workspace_id`` is billed for ``provider/model`` (None: the global price)."""
    visible: ColumnElement[bool] = ModelPrice.workspace_id.is_(None)
    if workspace_id is not None:
        visible = or_(visible, ModelPrice.workspace_id == workspace_id)
    rows = session.scalars(
        select(ModelPrice).where(
            ModelPrice.provider == provider, ModelPrice.model == model, ModelPrice.effective_to.is_(None), visible
        )
    ).all()
    best = best_of(rows, workspace_id)
    return None if best is None else to_price_row(best)


def nearest_price(session: Session, provider: str, model: str) -> PriceRow | None:
    """The winning current price of the provider's model nearest to ``model`` (``pricing.nearest``)."""
    rows = session.scalars(
        select(ModelPrice).where(ModelPrice.provider == provider, ModelPrice.effective_to.is_(None))
    ).all()
    by_model: dict[str, list[ModelPrice]] = defaultdict(list)
    for row in rows:
        by_model[row.model].append(row)
    candidates = [to_price_row(best) for group in by_model.values() if (best := best_of(group)) is not None]
    return pick_nearest(model, candidates)


class PriceBook:
    """Caches current prices briefly; a refresh is visible everywhere within ``ttl_s``."""

    def __init__(self, session_factory: sessionmaker[Session], ttl_s: float = 30.0) -> None:
        self._sessions = session_factory
        self._ttl = ttl_s
        self._cache: dict[tuple[str, str, uuid.UUID | None], tuple[PriceRow | None, float]] = {}
        self._lock = threading.Lock()
        self._providers: tuple[frozenset[str], float] = (frozenset(), 0.0)

    def providers(self) -> frozenset[str]:
        """Providers with at least one price row."""
        names, expires = self._providers
        now = time.monotonic()
        if now >= expires:
            with self._sessions() as session:
                names = frozenset(session.scalars(select(ModelPrice.provider).distinct()))
            self._providers = (names, now + self._ttl)
        return names

    def current(self, provider: str, model: str, workspace_id: uuid.UUID | None = None) -> PriceRow | None:
        """The price ``workspace_id`` is billed with (its own override first; None: global)."""
        key = (provider, model, workspace_id)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        with self._sessions() as session:
            price = current_price(session, provider, model, workspace_id)
        with self._lock:
            self._cache[key] = (price, now + self._ttl)
        return price

    def nearest(self, provider: str, model: str) -> PriceRow | None:
        """The price of the closest known model of ``provider`` (see ``pricing.nearest``)."""
        key = ("\x00nearest:" + provider, model, None)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        with self._sessions() as session:
            price = nearest_price(session, provider, model)
        with self._lock:
            self._cache[key] = (price, now + self._ttl)
        return price

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()
            self._providers = (frozenset(), 0.0)
