"""The execute function behind the Lambda Web Adapter: the local server's ASGI app (`tollgate.server`),
not a second implementation. Each request's deadline arrives in the adapter's `x-amzn-lambda-context`
header (see `tollgate.api.deadlines`)."""

from __future__ import annotations

from tollgate.server import build_asgi
from tollgate.wiring import get_services

app = build_asgi(get_services(), workers=4)
