"""Price feeds: fetch over httpx and map each feed's entries to ``PriceRow`` values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tollgate.money import per_token_to_per_1m
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


class InvalidPrice(Exception):  # noqa: N818 - a parse verdict the parsers turn into ``ParsedFeed.invalid``
    """An entry's price is negative, not finite or not a number: the whole entry is invalid."""


def per_1m(name: str, per_token: Decimal) -> Decimal:
    """A feed's USD-per-token price as USD per 1M tokens.

    Raises ``InvalidPrice`` naming the field ``name`` when it is negative or not finite."""
    if not per_token.is_finite() or per_token < 0:
        raise InvalidPrice(f"{name} is negative or not finite")
    return per_token_to_per_1m(per_token)


def positive_int(value: Any) -> int | None:
    """``value`` when it is an int above 0 (not a bool), else None (token limits in the feeds)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


# Fetches and parses one source; raises ``FeedError`` when the feed cannot be read.
FeedLoader = Callable[[], ParsedFeed]
