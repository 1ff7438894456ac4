"""Periodic jobs: EventBridge schedules on AWS, daemon timer threads in `tollgate serve`."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from tollgate.observability import logger


@dataclass(frozen=True)
class PeriodicJob:
    """``run`` every ``interval_s``; when ``run_at_start`` says so, also once right away — in the
    job's own thread, so start-up never waits for it."""

    name: str
    interval_s: float
    run: Callable[[], object]
    run_at_start: Callable[[], bool] | None = None


class LocalTimers:
    def __init__(self, jobs: list[PeriodicJob]) -> None:
        self._jobs = jobs
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for job in self._jobs:
            thread = threading.Thread(target=self._loop, args=(job,), name=f"job-{job.name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _loop(self, job: PeriodicJob) -> None:
        if job.run_at_start is not None:
            try:
                if job.run_at_start():
                    job.run()
            except Exception:
                logger.exception("start-up run of a periodic job failed", extra={"job": job.name})
        while not self._stop.wait(job.interval_s):
            try:
                job.run()
            except Exception:
                logger.exception("periodic job failed", extra={"job": job.name})
