"""Deadline arithmetic on an injected monotonic clock, and the Lambda Web Adapter header."""

from __future__ import annotations

import json

import pytest

from tollgate.execution import deadline as deadlines
from tollgate.execution.deadline import Deadline, DeadlineExceeded, DeadlineReached, lwa_deadline


class Tick:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def test_lambda_context_deadline_is_remaining_time_minus_margin() -> None:
    clock = Tick()
    deadline = Deadline.from_lambda_context(Context(), margin_s=3, clock=clock)
    assert deadline.remaining_s() == pytest.approx(7.0)
    clock.now += 6.5
    assert deadline.cap(120) == pytest.approx(0.5)
    assert deadline.cap(0.1) == pytest.approx(0.1)
    clock.now += 0.5
    assert deadline.expired and deadline.remaining_s() == 0
    with pytest.raises(DeadlineExceeded):
        deadline.cap(120)


def test_earliest_of_two_deadlines() -> None:
    clock = Tick()
    short, long = Deadline.after(1, clock), Deadline.after(5, clock)
    assert short.earliest(long) is short and long.earliest(short) is short and long.earliest(None) is long


def test_bound_makes_a_deadline_current_only_inside_the_block() -> None:
    clock = Tick()
    assert deadlines.capped_timeout(120) == 120
    with deadlines.bound(Deadline.after(2, clock)):
        assert deadlines.capped_timeout(120) == pytest.approx(2)
        clock.now += 3
        with pytest.raises(DeadlineExceeded):
            deadlines.check()
    deadlines.check()
    assert deadlines.current() is None


@pytest.mark.parametrize("field", ["deadline", "deadline_ms"])
def test_lwa_header_gives_the_invocation_deadline(field: str) -> None:
    header = json.dumps({"request_id": "r", field: 1_000_000_030_000})
    found = lwa_deadline({"x-amzn-lambda-context": header}, margin_s=3, wall=lambda: 1_000_000_000.0)
    assert found is not None and found.remaining_s() == pytest.approx(27, abs=0.5)


@pytest.mark.parametrize("raw", [None, "", "not json", "[]", '{"deadline": "soon"}', '{"deadline": true}'])
def test_lwa_header_absent_or_unreadable_is_no_deadline(raw: str | None) -> None:
    headers = {} if raw is None else {"x-amzn-lambda-context": raw}
    assert lwa_deadline(headers) is None


def test_deadline_reached_is_a_504_that_must_not_be_retried() -> None:
    error = DeadlineReached()
    assert (error.http_status, error.type, error.code) == (504, "provider_unavailable", "deadline_exceeded")
    assert error.headers == {"x-should-retry": "false"}
