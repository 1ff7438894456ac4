"""API Gateway routes -> the function that serves them, generated from the code's routers.

`routes.json` is the output of `python -m tollgate.api.route_table` (the one route table the local
server, the Lambdas and OpenAPI use); tests/infra/test_routes.py fails when it differs from what the
code serves, so a route cannot exist in the code and be missing from the deployed API.

Gateway keys are checked inside the functions (Bearer `tg_...` keys), so no route has an API Gateway
authorizer. `{model+}` is a greedy path parameter because model ids contain slashes.

The `execute` function's routes (model calls: long, streamed) are served by the streaming REST API; every
other function's routes by the HTTP API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ROUTES_JSON = Path(__file__).with_name("routes.json")
STREAMING_FUNCTIONS = frozenset({"execute"})


@dataclass(frozen=True)
class Route:
    method: str
    path: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def load_routes(path: Path = ROUTES_JSON) -> dict[str, tuple[Route, ...]]:
    """function -> its routes, in the order of the generated table."""
    table: dict[str, list[Route]] = {}
    for row in json.loads(path.read_text()):
        table.setdefault(str(row["function"]), []).append(Route(str(row["method"]), str(row["path"])))
    return {function: tuple(routes) for function, routes in table.items()}


ROUTES_BY_FUNCTION: dict[str, tuple[Route, ...]] = load_routes()
HTTP_API_ROUTES = {f: r for f, r in ROUTES_BY_FUNCTION.items() if f not in STREAMING_FUNCTIONS}
STREAMING_ROUTES = {f: r for f, r in ROUTES_BY_FUNCTION.items() if f in STREAMING_FUNCTIONS}
