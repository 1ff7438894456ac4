"""One group's running totals, fed from rollup rows and raw rows alike."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tollgate.money import ZERO
from tollgate.usage.latency import BUCKETS, COLUMNS, percentile

TOKEN_FIELDS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")


@dataclass
class Tally:
    requests: int = 0
    successes: int = 0
    input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: Decimal = ZERO
    latency_ms_sum: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    @property
    def failures(self) -> int:
        return self.requests - self.successes

    @property
    def total_tokens(self) -> int:
        return sum(int(getattr(self, name)) for name in TOKEN_FIELDS)

    def _add_sums(self, row: Any) -> None:
        self.requests += int(row.requests or 0)
        self.successes += int(row.successes or 0)
        for name in TOKEN_FIELDS:
            setattr(self, name, getattr(self, name) + int(getattr(row, name) or 0))
        self.cost_usd += row.cost_usd if row.cost_usd is not None else ZERO
        self.latency_ms_sum += int(row.latency_ms_sum or 0)

    def add_rollup(self, row: Any) -> None:
        self._add_sums(row)
        for k, name in enumerate(COLUMNS):
            self.histogram[k] += int(getattr(row, name) or 0)

    def add_raw(self, row: Any) -> None:
        """A raw aggregate row is already split by latency bucket (``row.bucket``)."""
        self._add_sums(row)
        self.histogram[int(row.bucket)] += int(row.requests or 0)

    def merge(self, other: Tally) -> None:
        self.requests += other.requests
        self.successes += other.successes
        for name in TOKEN_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.cost_usd += other.cost_usd
        self.latency_ms_sum += other.latency_ms_sum
        self.histogram = [a + b for a, b in zip(self.histogram, other.histogram, strict=True)]

    def metrics(self) -> dict[str, Any]:
        """The fields every summary group carries (money stays Decimal; the JSON encoder formats it)."""
        return {
            "requests": self.requests,
            "successes": self.successes,
            "failures": self.failures,
            "success_rate": round(self.successes / self.requests, 4) if self.requests else None,
            **{name: getattr(self, name) for name in TOKEN_FIELDS},
            "total_tokens": self.total_tokens,
            "cost_usd": self.cost_usd,
            "avg_latency_ms": round(self.latency_ms_sum / self.requests, 1) if self.requests else None,
            "p50_latency_ms": percentile(self.histogram, 0.50),
            "p95_latency_ms": percentile(self.histogram, 0.95),
        }


def none_if_blank(value: Any) -> Any:
    """The rollup stores '' for 'no workflow/agent/key'; raw rows store NULL; both read as None."""
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
