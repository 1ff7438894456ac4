"""Calendar periods across DST, and the SSRF guard (no sockets: a fake resolver)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tollgate.alerts.signing import sign, verify
from tollgate.budgets.periods import period_bounds
from tollgate.ssrf import UnsafeTarget, check_target


def test_daily_period_in_berlin_on_the_spring_forward_day_is_23_hours() -> None:
    start, end = period_bounds("daily", "Europe/Berlin", datetime(2026, 3, 29, 12, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 3, 29, 22, tzinfo=UTC))


def test_monthly_period_in_new_york_spans_the_fall_back() -> None:
    start, end = period_bounds("monthly", "America/New_York", datetime(2026, 11, 1, 3, 30, tzinfo=UTC))
    # 23:30 on Oct 31 local: still October
    assert (start, end) == (datetime(2026, 10, 1, 4, tzinfo=UTC), datetime(2026, 11, 1, 4, tzinfo=UTC))
    start, end = period_bounds("monthly", "America/New_York", datetime(2026, 11, 15, tzinfo=UTC))
    assert (start, end) == (datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 12, 1, 5, tzinfo=UTC))


def test_weekly_starts_monday_and_total_never_ends() -> None:
    start, end = period_bounds("weekly", "UTC", datetime(2026, 11, 26, 9, tzinfo=UTC))  # a Thursday
    assert (start.weekday(), start, end) == (0, datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
    assert period_bounds("total", "Asia/Tokyo", datetime(2026, 1, 1, tzinfo=UTC))[1] is None


def test_december_rolls_into_next_year() -> None:
    assert period_bounds("monthly", "UTC", datetime(2026, 12, 31, tzinfo=UTC))[1] == datetime(2027, 1, 1, tzinfo=UTC)


def test_midnight_dst_gap_uses_first_instant_of_the_day() -> None:
    # America/Santiago springs forward at 00:00 local (2026-09-06): the day starts at 01:00 local
    start, _ = period_bounds("daily", "America/Santiago", datetime(2026, 9, 6, 15, tzinfo=UTC))
    assert start.astimezone(__import__("zoneinfo").ZoneInfo("America/Santiago")).date().day == 6
    assert start == datetime(2026, 9, 6, 4, tzinfo=UTC)


ZONES = st.sampled_from(
    ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"]
)


@given(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
    ZONES,
    st.sampled_from(["daily", "weekly", "monthly"]),
)
def test_now_is_always_inside_its_period_and_periods_tile(naive: datetime, zone: str, period: str) -> None:
    now = naive.replace(tzinfo=UTC)
    start, end = period_bounds(period, zone, now)
    assert end is not None and start <= now < end
    assert end - start <= timedelta(days=31, hours=2)
    assert period_bounds(period, zone, end)[0] == end  # the next period starts where this one ends


def resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    return resolve


DNS = resolver(
    {
        "hooks.example.com": ["93.184.216.34"],
        "rebind.example.com": ["127.0.0.1"],
        "inner.example.com": ["10.1.2.3"],
        "localhost": ["127.0.0.1", "::1"],
        "mixed.example.com": ["93.184.216.34", "192.168.1.1"],
    }
)


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hook",
        "https://inner.example.com/hook",
        "https://localhost/hook",
        "https://rebind.example.com/hook",
        "https://mixed.example.com/hook",
        "https://[::ffff:169.254.169.254]/x",
        "https://[fd00:ec2::254]/x",
        "https://100.64.0.1/x",
        "http://hooks.example.com/hook",
        "https://user:pw@hooks.example.com/hook",
        "file:///etc/passwd",
        "https://nxdomain.example.com/",
    ],
)
def test_unsafe_targets_are_refused(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        check_target(url, allow_local=False, resolve=DNS)


def test_local_mode_allows_only_loopback() -> None:
    check_target("http://127.0.0.1:8080/hook", allow_local=True, resolve=DNS)
    check_target("https://localhost/hook", allow_local=True, resolve=DNS)
    with pytest.raises(UnsafeTarget):
        check_target("https://10.0.0.1/hook", allow_local=True, resolve=DNS)
    with pytest.raises(UnsafeTarget):
        check_target("http://hooks.example.com/hook", allow_local=True, resolve=DNS)


def test_public_https_target_passes() -> None:
    check_target("https://hooks.example.com/hook", allow_local=False, resolve=DNS)


def test_signature_roundtrip_and_replay_window() -> None:
    header = sign(b"secret", b'{"a":1}', 1_800_000_000)
    assert verify(b"secret", b'{"a":1}', header, now=1_800_000_100)
    assert not verify(b"secret", b'{"a":2}', header, now=1_800_000_100)
    assert not verify(b"secret", b'{"a":1}', header, now=1_800_001_000)
    assert not verify(b"secret", b'{"a":1}', "garbage", now=1_800_000_000)
