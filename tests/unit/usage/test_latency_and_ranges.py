"""Pure rules: latency buckets and their error bound, splitting ranges into whole and partial days."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from tollgate.usage.filters import split_range
from tollgate.usage.latency import BUCKETS, LOWER_BOUNDS, bucket_estimate, bucket_of, exact_percentile, percentile


def test_buckets_are_increasing_and_cover_lambda_timeouts() -> None:
    assert len(LOWER_BOUNDS) == BUCKETS
    assert list(LOWER_BOUNDS) == sorted(set(LOWER_BOUNDS))
    assert LOWER_BOUNDS[0] == 0
    assert LOWER_BOUNDS[-1] > 15 * 60 * 1000  # beyond the longest Lambda timeout
    assert bucket_of(-5) == 0
    assert bucket_of(10**9) == BUCKETS - 1


def test_documented_error_bound_holds_for_every_latency() -> None:
    # exact below 4 ms, ≤ 20% from 4 to 15 ms, ≤ 12.5% from 16 ms up (up to the last closed bucket)
    for value in range(0, LOWER_BOUNDS[-1]):
        estimate = bucket_estimate(bucket_of(value))
        if value < 4:
            assert estimate == value
        else:
            bound = 0.20 if value < 16 else 0.125
            assert abs(estimate - value) / value <= bound, value


@given(st.lists(st.integers(min_value=0, max_value=600_000), min_size=1, max_size=300), st.sampled_from([0.5, 0.95]))
def test_histogram_percentile_is_within_the_bucket_of_the_exact_one(values: list[int], fraction: float) -> None:
    counts = [0] * BUCKETS
    for value in values:
        counts[bucket_of(value)] += 1
    exact = exact_percentile(values, fraction)
    assert exact is not None
    assert percentile(counts, fraction) == bucket_estimate(bucket_of(exact))


def test_empty_histogram_has_no_percentile() -> None:
    assert percentile([0] * BUCKETS, 0.5) is None
    assert exact_percentile([], 0.5) is None


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_split_range_shapes() -> None:
    whole = split_range(at("2026-11-01"), at("2026-11-04"))
    assert (whole.first_day, whole.end_day, whole.partial) == (date(2026, 11, 1), date(2026, 11, 4), ())
    edges = split_range(at("2026-11-01T06:00"), at("2026-11-04T01:00"))
    assert (edges.first_day, edges.end_day) == (date(2026, 11, 2), date(2026, 11, 4))
    assert edges.partial == ((at("2026-11-01T06:00"), at("2026-11-02")), (at("2026-11-04"), at("2026-11-04T01:00")))
    same_day = split_range(at("2026-11-01T06:00"), at("2026-11-01T07:00"))
    assert same_day.first_day is None and same_day.partial == ((at("2026-11-01T06:00"), at("2026-11-01T07:00")),)
    straddle = split_range(at("2026-11-01T06:00"), at("2026-11-02T07:00"))
    assert straddle.first_day is None
    assert straddle.partial == ((at("2026-11-01T06:00"), at("2026-11-02")), (at("2026-11-02"), at("2026-11-02T07:00")))


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
    st.integers(min_value=1, max_value=10**8),
)
def test_split_range_partitions_the_range(start: datetime, seconds: int) -> None:
    end = datetime.fromtimestamp(start.timestamp() + seconds, UTC)
    parts = split_range(start, end)
    pieces = list(parts.partial)
    if parts.first_day is not None and parts.end_day is not None:
        pieces.append(
            (
                datetime.combine(parts.first_day, datetime.min.time(), UTC),
                datetime.combine(parts.end_day, datetime.min.time(), UTC),
            )
        )
    pieces.sort()
    assert pieces[0][0] == start and pieces[-1][1] == end
    for (_, a_end), (b_start, _) in zip(pieces, pieces[1:], strict=False):
        assert a_end == b_start
    for piece_start, piece_end in parts.partial:
        assert piece_start < piece_end
        assert math.floor((piece_end.timestamp() - 1e-6) / 86400) == math.floor(piece_start.timestamp() / 86400)
