"""The deployed route table, generated from the routers (``tollgate.api.routes.ROUTERS``).

``python -m tollgate.api.route_table`` prints the JSON committed as
``infra/tollgate_infra/routes.json``; infra builds every API Gateway route from it and
``tests/infra/test_routes.py`` fails when it differs from what the code serves.

API Gateway spells a greedy path parameter ``{name+}`` where the routers spell ``{name:path}``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass

from tollgate.api.routes import LOCAL_ONLY_FUNCTIONS, routers_for
from tollgate.api.routes import functions as route_functions


@dataclass(frozen=True, order=True)
class DeployedRoute:
    function: str
    method: str
    path: str  # API Gateway syntax

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def api_gateway_path(path: str) -> str:
    """``/v1/pricing/{provider}/{model:path}`` -> ``/v1/pricing/{provider}/{model+}``."""
    return path.replace(":path}", "+}")


def route_table() -> list[DeployedRoute]:
    """Every route served on AWS, sorted (function, method, path)."""
    rows = [
        DeployedRoute(function, route.method, api_gateway_path(route.path))
        for function in route_functions()
        if function not in LOCAL_ONLY_FUNCTIONS
        for router in routers_for(function)
        for route in router.routes
    ]
    return sorted(rows)


def route_table_json() -> str:
    return json.dumps([asdict(row) for row in route_table()], indent=1) + "\n"


if __name__ == "__main__":
    sys.stdout.write(route_table_json())
