"""The execute function behind the Lambda Web Adapter: the local server's ASGI app (`tollgate.server`),
not a second implementation. Each request's deadline arrives in the adapter's `x-amzn-lambda-context`
header (see `tollgate.api.deadlines`). The adapter sends one invocation at a time to a container, so
its one uvicorn process runs one event loop (the async execute core) and a small management pool."""

from __future__ import annotations

from tollgate.server import build_asgi
from tollgate.wiring import get_services

app = build_asgi(get_services(), sync_workers=2)
