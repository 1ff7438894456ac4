"""The local server: every route of every function in one ASGI app on uvicorn (uvloop + httptools,
no access log, no X-Forwarded-* rewriting).

``serve(..., workers=N)`` runs N processes. The database is the only state they share (budgets
reserve and settle with conditional updates in it), so budgets stay exact across workers; each
worker has its own event loop, upstream connection pool, caches and local timers.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable

from tollgate.api.app import GatewayApp
from tollgate.api.asgi import AsgiGateway
from tollgate.api.routes import all_routers
from tollgate.config import get_settings
from tollgate.metering.text import tokenizer_name
from tollgate.wiring import Services, set_services

SYNC_WORKERS = 8
# Net allocations of container objects between two collections of the youngest generation (the
# interpreter's default is 700); see ``settle_heap``.
GC_GEN0_THRESHOLD = 10_000


def build_asgi(
    services: Services,
    *,
    sync_workers: int = SYNC_WORKERS,
    on_startup: Callable[[], None] | None = None,
    on_stop: Callable[[], None] | None = None,
) -> AsgiGateway:
    """The ASGI app over ``services``; management routes use ``sync_workers`` threads.
    ``on_startup``/``on_stop`` run at lifespan start and before the services close."""
    app = GatewayApp(all_routers(), lambda: services, sync_workers=sync_workers)

    async def shutdown() -> None:
        if on_stop is not None:
            on_stop()
        await services.http_client.aclose()
        services.close()

    return AsgiGateway(
        app, max_body_bytes=services.settings.max_body_bytes, on_startup=on_startup, on_shutdown=shutdown
    )


def start_up() -> None:
    """A server process's start-up work, once its services exist (the ASGI lifespan start, before
    uvicorn accepts connections): ``warm_up``, then ``settle_heap``."""
    warm_up()
    settle_heap()


def warm_up() -> None:
    """Load what the first call would otherwise load on its way: the tokenizer's BPE table
    (``tollgate.metering.text``: 100,256 ranks decoded and built into tiktoken's encoder, ~0.2 s
    on the 2-core VM), which made a new server's first call ~0.2 s slower than the next ones."""
    tokenizer_name()


def settle_heap() -> None:
    """Tune the cyclic garbage collector of a ``tollgate serve`` process (never a test process)
    once its start-up work is done (the ASGI lifespan start).

    Everything allocated so far (modules, the price catalogue, SQLAlchemy's compiled statements:
    ~200,000 objects) is moved out of the collector's sight (``gc.freeze``), so a full collection
    no longer walks it (each one stopped the event loop for ~100 ms under load); and the youngest
    generation is collected after ``GC_GEN0_THRESHOLD`` net allocations instead of 700 (the objects
    of ~50 calls in flight crossed 700 all the time, so every few calls a collection walked and
    promoted them). Garbage is still freed by reference counting at once; only reference cycles
    wait for a collection (and a cycle among frozen start-up objects is never collected: those are
    the process's long-lived modules, catalogues and compiled statements). Measured
    (docs/providers.md, "Event loop per call, issue 14"): the collector's time fell from ~0.14 to
    ~0.002 ms per call."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GC_GEN0_THRESHOLD, gen1, gen2)


def worker_app() -> AsgiGateway:
    """The app of one ``--workers`` process (uvicorn factory): services from the environment,
    local timers started with the process (each worker drains its own in-process alert queue)."""
    from tollgate.bootstrap import local_jobs
    from tollgate.jobs import LocalTimers

    services = Services(get_settings())
    set_services(services)
    timers = LocalTimers(local_jobs(services))

    def started() -> None:
        timers.start()
        start_up()

    return build_asgi(services, on_startup=started, on_stop=timers.stop)


def serve(services: Services, host: str, port: int, *, workers: int = 1) -> None:
    """Run until interrupted. ``workers`` > 1 starts that many processes (``services.settings``
    are handed to them through the environment: the database URL is what matters)."""
    import uvicorn

    options = {"host": host, "port": port, "log_level": "warning", "access_log": False, "lifespan": "on"}
    # No proxy-header rewriting: nothing in the app reads the client address or scheme (callers are
    # identified by their key), so uvicorn's X-Forwarded-* middleware would only cost every request.
    options.update(loop="uvloop", http="httptools", proxy_headers=False)
    if workers > 1:
        os.environ["TOLLGATE_DATABASE_URL"] = services.database_url
        uvicorn.run("tollgate.server:worker_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]
        return

    from tollgate.bootstrap import local_jobs
    from tollgate.jobs import LocalTimers

    timers = LocalTimers(local_jobs(services))  # sweeper, alert delivery (EventBridge/SQS on AWS)
    timers.start()
    try:
        uvicorn.run(build_asgi(services, on_startup=start_up), **options)  # type: ignore[arg-type]
    finally:
        timers.stop()
