"""A periodic job may run once at start, in its own thread: start-up never waits for it."""

from __future__ import annotations

import threading

from tollgate.jobs import LocalTimers, PeriodicJob


def test_a_start_run_happens_in_the_background() -> None:
    started, release = threading.Event(), threading.Event()

    def slow_refresh() -> None:
        started.set()
        release.wait(30)

    timers = LocalTimers([PeriodicJob("refresh", 3600, slow_refresh, run_at_start=lambda: True)])
    timers.start()  # returns although the refresh is still running
    try:
        assert started.wait(30)
        assert not release.is_set()
    finally:
        release.set()
        timers.stop()


def test_no_start_run_when_not_asked() -> None:
    ran: list[int] = []
    timers = LocalTimers([PeriodicJob("refresh", 3600, lambda: ran.append(1), run_at_start=lambda: False)])
    timers.start()
    timers.stop()
    assert ran == []
