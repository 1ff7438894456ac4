"""Current prices by (provider, model), read from ``model_prices`` with source precedence.

Precedence (lower wins): a manual override, then the provider's own feed, then an aggregator.
OpenRouter's model list is the provider's own feed for provider ``openrouter``; for every other
provider it has no rows, and LiteLLM's community map is the best feed we have.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tollgate.db.models import ModelPrice
from tollgate.pricing.calculator import PriceRow
from tollgate.pricing.nearest import pick_nearest

SOURCES = ("manual", "litellm", "openrouter")
# Kept for callers that want a flat order; ``source_rank`` refines it per provider.
SOURCE_PRECEDENCE = {"manual": 0, "litellm": 1, "openrouter": 2}
# Which feed is a provider's own price list.
OWN_FEED = {"openrouter": "openrouter"}


def source_rank(provider: str, source: str) -> int:
    if source == "manual":
        return 0
    if OWN_FEED.get(provider) == source:
        return 1
    return 1 + SOURCE_PRECEDENCE.get(source, 98)


def to_price_row(row: ModelPrice) -> PriceRow:
    return PriceRow(
        id=row.id,
        provider=row.provider,
        model=row.model,
        source=row.source,
        input_per_1m=row.input_per_1m,
        output_per_1m=row.output_per_1m,
        cache_read_per_1m=row.cache_read_per_1m,
        cache_write_per_1m=row.cache_write_per_1m,
        cache_write_1h_per_1m=row.cache_write_1h_per_1m,
        reasoning_per_1m=row.reasoning_per_1m,
        tier_threshold_tokens=row.tier_threshold_tokens,
        input_above_tier_per_1m=row.input_above_tier_per_1m,
        output_above_tier_per_1m=row.output_above_tier_per_1m,
        cache_read_above_tier_per_1m=row.cache_read_above_tier_per_1m,
        cache_write_above_tier_per_1m=row.cache_write_above_tier_per_1m,
        cache_write_1h_above_tier_per_1m=row.cache_write_1h_above_tier_per_1m,
        max_output_tokens=row.max_output_tokens,
        max_input_tokens=row.max_input_tokens,
        effective_from=row.effective_from,
    )


def best_of(rows: Iterable[ModelPrice]) -> ModelPrice | None:
    """The winning current row among the sources' rows for one (provider, model)."""
    return min(rows, key=lambda r: source_rank(r.provider, r.source), default=None)


def current_price(session: Session, provider: str, model: str) -> PriceRow | None:
    rows = session.scalars(
        select(ModelPrice).where(
            ModelPrice.provider == provider, ModelPrice.model == model, ModelPrice.effective_to.is_(None)
        )
    ).all()
    best = best_of(rows)
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
        self._cache: dict[tuple[str, str], tuple[PriceRow | None, float]] = {}
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

    def current(self, provider: str, model: str) -> PriceRow | None:
        key = (provider, model)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        with self._sessions() as session:
            price = current_price(session, provider, model)
        with self._lock:
            self._cache[key] = (price, now + self._ttl)
        return price

    def nearest(self, provider: str, model: str) -> PriceRow | None:
        """The price of the closest known model of ``provider`` (see ``pricing.nearest``)."""
        key = ("\x00nearest:" + provider, model)
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
