"""Fixed log-scale latency histogram, so p50/p95 can be read from the daily rollup.

Bucket ``k`` holds latencies in ``[LOWER_BOUNDS[k], LOWER_BOUNDS[k + 1])`` milliseconds; the
bounds are ``ceil(2 ** (i / 3))`` (three buckets per doubling) de-duplicated, starting at 0 ms, so
the buckets 0..3 ms are exact and the last one (≥ ~22 minutes) is open-ended, beyond any Lambda
timeout. A percentile is read as the geometric middle of the bucket holding the nearest-rank
element, so it is within the bucket's width of the exact value: exact below 4 ms, at most 20%
off between 4 and 15 ms (integer edges), and at most 12.5% off from 16 ms up (see docs/usage.md).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

BUCKETS = 60


def _lower_bounds() -> tuple[int, ...]:
    bounds = sorted({0} | {math.ceil(2 ** (i / 3)) for i in range(90)})
    return tuple(bounds[:BUCKETS])


LOWER_BOUNDS: tuple[int, ...] = _lower_bounds()
COLUMNS: tuple[str, ...] = tuple(f"lat_{k:02d}" for k in range(BUCKETS))


def bucket_of(latency_ms: int) -> int:
    """The bucket index of a latency; negative values count as 0 ms."""
    return max(0, bisect_right(LOWER_BOUNDS, max(0, latency_ms)) - 1)


def bucket_estimate(k: int) -> int:
    """The value reported for a percentile that falls in bucket ``k``."""
    low = LOWER_BOUNDS[k]
    if k + 1 >= BUCKETS:
        return low
    high = LOWER_BOUNDS[k + 1] - 1
    if high <= low:
        return low
    return round(math.sqrt(low * high))


def percentile(counts: Sequence[int], fraction: float) -> int | None:
    """Nearest-rank percentile from bucket counts (None when there are no observations)."""
    total = sum(counts)
    if total == 0:
        return None
    rank = max(1, math.ceil(fraction * total))
    running = 0
    for k, count in enumerate(counts):
        running += count
        if running >= rank:
            return bucket_estimate(k)
    return bucket_estimate(len(counts) - 1)  # pragma: no cover - unreachable: running reaches total


def exact_percentile(values: Sequence[int], fraction: float) -> int | None:
    """Nearest-rank percentile of raw values (the reference the histogram approximates)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]
