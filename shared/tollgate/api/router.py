"""A deliberately thin router: route table, path matching and role requirements.

Each Lambda function serves the routes of one ``Router``; the local server mounts them all.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel

from tollgate.api.http import ApiResponse

if TYPE_CHECKING:
    from tollgate.api.context import RequestContext
    from tollgate.errors import TollgateError

# A synchronous handler (management routes: run on a worker thread) or a coroutine function (the
# execute path: awaited on the event loop).
Handler = Callable[["RequestContext"], ApiResponse | Awaitable[ApiResponse]]
# Renders a gateway error for an API with its own error shape (e.g. Anthropic's); args: error, request id.
ErrorRenderer = Callable[["TollgateError", str], ApiResponse]

PUBLIC: frozenset[str] = frozenset()
MEMBER = frozenset({"member", "admin"})
ADMIN = frozenset({"admin"})
ROOT = frozenset({"root"})
ADMIN_OR_ROOT = frozenset({"admin", "root"})
ANY_KEY = frozenset({"member", "admin", "root"})

H = TypeVar("H", bound=Handler)

_PARAM = re.compile(r"\{(\w+)(?::path)?\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    roles: frozenset[str]
    summary: str
    function: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    error_renderer: ErrorRenderer | None = None
    error_body: type[BaseModel] | None = None  # the schema error_renderer produces (OpenAPI)
    pattern: re.Pattern[str] = field(init=False, compare=False)
    is_async: bool = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_async", inspect.iscoroutinefunction(self.handler))
        regex = ""
        last = 0
        for match in _PARAM.finditer(self.path):
            regex += re.escape(self.path[last : match.start()])
            greedy = match.group(0).endswith(":path}")
            regex += f"(?P<{match.group(1)}>{'.+' if greedy else '[^/]+'})"
            last = match.end()
        regex += re.escape(self.path[last:])
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    @property
    def openapi_path(self) -> str:
        return self.path.replace(":path}", "}")


class Router:
    def __init__(self, function: str) -> None:
        self.function = function
        self.routes: list[Route] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        roles: frozenset[str],
        summary: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        error_renderer: ErrorRenderer | None = None,
        error_body: type[BaseModel] | None = None,
    ) -> Callable[[H], H]:
        def register(handler: H) -> H:
            self.routes.append(
                Route(
                    method,
                    path,
                    handler,
                    roles,
                    summary,
                    self.function,
                    body,
                    query,
                    response,
                    status,
                    error_renderer,
                    error_body,
                )
            )
            return handler

        return register


@dataclass(frozen=True)
class Match:
    route: Route
    params: dict[str, str]


class RouteTable:
    """Static routes are matched before parameterised ones so `/v1/budgets/status` beats `/{id}`."""

    def __init__(self, routers: Iterable[Router]) -> None:
        routes = [route for router in routers for route in router.routes]
        self.routes = sorted(routes, key=lambda r: (r.path.count("{"), -len(r.path)))
        # Static routes by (method, path): they come first in the scan, so an exact hit is its answer.
        self._static = {(r.method, r.path): r for r in reversed(self.routes) if "{" not in r.path}

    def match(self, method: str, path: str) -> Match | None | tuple[str, ...]:
        """A ``Match``, or the allowed methods when only the method is wrong, or None."""
        static = self._static.get((method, path))
        if static is not None:
            return Match(static, {})
        allowed: list[str] = []
        for route in self.routes:
            found = route.pattern.match(path)
            if found is None:
                continue
            if route.method == method:
                return Match(route, found.groupdict())
            allowed.append(route.method)
        return tuple(allowed) if allowed else None
