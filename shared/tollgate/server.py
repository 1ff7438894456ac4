"""The local server: every route of every function in one ASGI app on uvicorn."""

from __future__ import annotations

from tollgate.api.app import GatewayApp
from tollgate.api.asgi import AsgiGateway
from tollgate.api.routes import all_routers
from tollgate.wiring import Services


def build_asgi(services: Services, *, workers: int = 64) -> AsgiGateway:
    app = GatewayApp(all_routers(), lambda: services)
    return AsgiGateway(
        app, max_body_bytes=services.settings.max_body_bytes, workers=workers, on_shutdown=services.close
    )


def serve(services: Services, host: str, port: int) -> None:
    import uvicorn

    from tollgate.bootstrap import local_jobs
    from tollgate.jobs import LocalTimers

    timers = LocalTimers(local_jobs(services))  # sweeper, alert delivery (EventBridge/SQS on AWS)
    timers.start()
    try:
        uvicorn.run(build_asgi(services), host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    finally:
        timers.stop()
