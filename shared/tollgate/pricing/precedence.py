"""The one price-source precedence: which current row prices (provider, model) for a workspace.

Every reader — the execute path (``PriceBook``), ``GET /v1/models``, ``GET /v1/pricing`` and the
nearest-model estimate — picks the winner here, so what a catalog shows is what a call bills.

Order (first wins), among the current rows (``effective_to`` NULL) visible to the workspace:

1. a manual override written by an admin of this workspace (``workspace_id`` = the workspace);
2. a global manual override (root's, ``workspace_id`` NULL);
3. the provider's own feed (OpenRouter's model list for provider ``openrouter``);
4. the LiteLLM community map, then any other aggregator feed (OpenRouter for other providers).

Another workspace's override is never visible.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Protocol, TypeVar

from tollgate.db.models import ModelPrice
from tollgate.pricing.calculator import PriceRow
from tollgate.providers.registry import own_feeds

MANUAL = "manual"
SOURCES = ("manual", "litellm", "openrouter")
# Which feed is a provider's own price list (the registry's ``own_feed``).
OWN_FEED = own_feeds()
# Aggregator feeds, best first.
AGGREGATORS = ("litellm", "openrouter")


class PricedRow(Protocol):
    @property
    def provider(self) -> str: ...

    @property
    def source(self) -> str: ...

    @property
    def workspace_id(self) -> uuid.UUID | None: ...


R = TypeVar("R", bound=PricedRow)


def source_rank(provider: str, source: str, workspace_override: bool = False) -> int:
    """Lower wins. ``workspace_override``: a manual row of the caller's own workspace."""
    if source == MANUAL:
        return 0 if workspace_override else 1
    if OWN_FEED.get(provider) == source:
        return 2
    if source in AGGREGATORS:
        return 3 + AGGREGATORS.index(source)
    return 3 + len(AGGREGATORS)


def visible(row: PricedRow, workspace_id: uuid.UUID | None) -> bool:
    """Global rows are visible to everyone; a workspace's override only to that workspace."""
    return row.workspace_id is None or (workspace_id is not None and row.workspace_id == workspace_id)


def rank_of(row: PricedRow, workspace_id: uuid.UUID | None) -> int:
    return source_rank(row.provider, row.source, row.workspace_id is not None and row.workspace_id == workspace_id)


def best_of(rows: Iterable[R], workspace_id: uuid.UUID | None = None) -> R | None:
    """The winning current row among one (provider, model)'s rows, for ``workspace_id`` (None: global)."""
    return min((r for r in rows if visible(r, workspace_id)), key=lambda r: rank_of(r, workspace_id), default=None)


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
