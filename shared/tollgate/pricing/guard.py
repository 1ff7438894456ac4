"""The sanity guard: a feed that looks broken is refused as a whole and the old prices stay.

Rules (per source, against the models currently known from that same source, so a new source or
an empty database never trips the drop rule):
* it must not drop more than ``max_drop_fraction`` (20%) of the known models;
* no price may move by more than ``max_price_ratio`` (10x) up or down; a paid price falling to
  0 counts as such a move (a free model becoming paid does not: that errs on the safe side);
* no price may be negative or not a number (the parser lists those as ``invalid``);
* no rate may exceed ``max_rate_per_1m`` USD per 1M tokens: a feed in the wrong unit (per 1M
  instead of per token) shows up as millions of dollars per 1M tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from tollgate.pricing.calculator import PriceRow
from tollgate.pricing.feeds import ParsedFeed

MAX_REPORTED = 5
# Problems an operator may override with ``force`` (a deliberate large change); the others mean
# the data itself cannot be stored and are never overridden.
OVERRIDABLE = frozenset({"drop", "move"})


@dataclass(frozen=True)
class Problem:
    kind: str  # invalid | empty | drop | unit | move
    message: str


@dataclass(frozen=True)
class GuardLimits:
    max_drop_fraction: Decimal = Decimal("0.2")
    max_price_ratio: Decimal = Decimal(10)
    max_rate_per_1m: Decimal = Decimal(50_000)


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _moved_too_far(old: Decimal, new: Decimal, ratio: Decimal) -> bool:
    if old == 0:
        return False
    if new == 0:
        return True
    return new / old > ratio or old / new > ratio


def check_feed(
    feed: ParsedFeed, known: Mapping[tuple[str, str], PriceRow], limits: GuardLimits | None = None
) -> list[Problem]:
    """Problems that make the feed unsafe to apply; empty when it may be applied."""
    limits = limits or GuardLimits()
    problems: list[Problem] = []
    if feed.invalid:
        shown = "; ".join(feed.invalid[:MAX_REPORTED])
        problems.append(
            Problem("invalid", f"{len(feed.invalid)} entries have negative or non-numeric prices ({shown})")
        )
    incoming = {(row.provider, row.model): row for row in feed.prices}
    if not incoming and not feed.invalid:
        problems.append(Problem("empty", "feed contains no priced models"))
    dropped = [ident for ident in known if ident not in incoming]
    if known and Decimal(len(dropped)) / Decimal(len(known)) > limits.max_drop_fraction:
        share = Decimal(100) * len(dropped) / len(known)
        limit = limits.max_drop_fraction * 100
        problems.append(
            Problem("drop", f"feed drops {len(dropped)} of {len(known)} known models ({share:.0f}% > {limit:.0f}%)")
        )
    absurd = [
        f"{row.provider}/{row.model} {name}={_plain(value)}"
        for row in feed.prices
        for name, value in row.decimal_prices().items()
        if value > limits.max_rate_per_1m
    ]
    if absurd:
        message = f"{len(absurd)} rates above {limits.max_rate_per_1m} USD per 1M tokens (wrong unit?): "
        problems.append(Problem("unit", message + "; ".join(absurd[:MAX_REPORTED])))
    moves = [
        f"{ident[0]}/{ident[1]} {name} {_plain(old_value)} -> {_plain(new_value)}"
        for ident, old in known.items()
        if (new := incoming.get(ident)) is not None
        for name, old_value in old.decimal_prices().items()
        if (new_value := new.decimal_prices().get(name)) is not None
        and _moved_too_far(old_value, new_value, limits.max_price_ratio)
    ]
    if moves:
        message = f"{len(moves)} prices move by more than {limits.max_price_ratio}x: "
        problems.append(Problem("move", message + "; ".join(moves[:MAX_REPORTED])))
    return problems
