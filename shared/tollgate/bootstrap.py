"""Start-up work for a local install: migrate, seed built-in prices, create the root key once."""

from __future__ import annotations

from dataclasses import dataclass

from tollgate.db.migrate import upgrade
from tollgate.jobs import PeriodicJob
from tollgate.pricing.seed import seed_builtin_prices
from tollgate.pricing.snapshot import seed_snapshot
from tollgate.pricing.status import lock_status, read_status
from tollgate.wiring import Services


@dataclass(frozen=True)
class BootstrapResult:
    new_root_key: str | None


def prepare_database(services: Services) -> None:
    upgrade(services.engine)
    with services.sessions.begin() as session:
        seed_builtin_prices(session)
        lock_status(session)  # the refresh status singleton exists before any refresh runs
        if services.settings.pricing_seed_snapshot:
            seed_snapshot(session)


def bootstrap(services: Services) -> BootstrapResult:
    prepare_database(services)
    new_root_key = None
    if not services.settings.root_key:
        new_root_key = services.gateway_keys.ensure_root_key()
    return BootstrapResult(new_root_key=new_root_key)


def local_jobs(services: Services) -> list[PeriodicJob]:
    """What `tollgate serve` runs on timers (EventBridge schedules these on AWS)."""
    settings = services.settings
    jobs: list[PeriodicJob] = [PeriodicJob("sweeper", settings.sweeper_interval_s, services.sweeper.sweep)]
    worker = services.alert_worker
    if worker is not None:
        jobs.append(PeriodicJob("alert-delivery", settings.alert_worker_interval_s, worker.run_once))
    jobs.append(PeriodicJob("credential-probe", settings.credential_probe_interval_s, services.credential_prober.run))
    jobs.append(
        PeriodicJob(
            "pricing_refresh",
            settings.pricing_refresh_interval_s,
            services.pricing_refresher.refresh,
            run_at_start=lambda: prices_stale(services),
        )
    )
    jobs.append(PeriodicJob("fx_refresh", settings.pricing_refresh_interval_s, services.fx_refresher.refresh))
    return jobs


def prices_stale(services: Services) -> bool:
    """Whether prices are stale (no successful refresh within ``pricing_stale_after_s``, or ever):
    then ``tollgate serve`` refreshes once at start, in the background."""
    with services.sessions() as session:
        return read_status(session, services.clock.now(), services.settings.pricing_stale_after_s).stale
