"""Price feeds: fetch over httpx and map each feed's entries to ``PriceRow`` values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tollgate.pricing.calculator import PriceRow


@dataclass
class ParsedFeed:
    """One source's prices, plus what the parser could not use.

    ``invalid`` lists entries whose prices are negative or not numbers: the guard refuses the whole
    feed when it is not empty. ``skipped`` counts entries that are fine but not token-priced (image,
    audio-per-second, search, ...) or are routers without a price.
    """

    source: str
    version: str
    prices: list[PriceRow] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    skipped: int = 0
    duplicates: int = 0


# Fetches and parses one source; raises ``FeedError`` when the feed cannot be read.
FeedLoader = Callable[[], ParsedFeed]
