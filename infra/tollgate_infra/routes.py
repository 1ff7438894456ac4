"""HTTP API routes (DESIGN.md section 3) -> the function that serves them.

Gateway keys are checked inside the functions (Bearer `tg_...` keys), so no route has an API Gateway
authorizer. `{model+}` is a greedy path parameter because model ids contain slashes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    method: str
    path: str


def _routes(*keys: str) -> tuple[Route, ...]:
    return tuple(Route(*key.split(" ", 1)) for key in keys)


ROUTES_BY_FUNCTION: dict[str, tuple[Route, ...]] = {
    "execute": _routes(
        "POST /v1/chat/completions",
        "POST /v1/messages",
        "POST /v1/messages/count_tokens",
        "POST /v1/embeddings",
        "GET /v1/models",
        "POST /v1/cost/estimate",
    ),
    "keys": _routes(
        "POST /v1/workspaces",
        "GET /v1/workspaces",
        "POST /v1/keys",
        "GET /v1/keys",
        "DELETE /v1/keys/{id}",
        "POST /v1/credentials",
        "GET /v1/credentials",
        "GET /v1/credentials/{id}",
        "PATCH /v1/credentials/{id}",
        "DELETE /v1/credentials/{id}",
        "POST /v1/credentials/test",
        "POST /v1/credentials/{id}/test",
        "POST /v1/credentials/{id}/rotate",
    ),
    "budgets": _routes(
        "POST /v1/budgets",
        "GET /v1/budgets",
        "GET /v1/budgets/status",
        "GET /v1/budgets/{id}",
        "PUT /v1/budgets/{id}",
        "DELETE /v1/budgets/{id}",
        "POST /v1/budgets/{id}/reset",
        "GET /v1/budgets/{id}/status",
        "GET /v1/budgets/{id}/history",
        "POST /v1/alert-channels",
        "GET /v1/alert-channels",
        "DELETE /v1/alert-channels/{id}",
        "POST /v1/alert-channels/{id}/test",
    ),
    "usage": _routes(
        "GET /v1/usage",
        "GET /v1/usage/summary",
        "GET /v1/usage/export",
        "GET /v1/pricing",
        "GET /v1/pricing/status",
        "GET /v1/pricing/{provider}/{model+}",
        "PUT /v1/pricing/{provider}/{model+}",
        "GET /health",
        "GET /openapi.json",
    ),
    "pricing_updater": _routes(
        "POST /v1/pricing/refresh",
    ),
}
