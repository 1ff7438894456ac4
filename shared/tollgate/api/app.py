"""The dispatcher shared by every deployment: match, limit, authenticate, validate, call, map errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from tollgate.api.context import RequestContext
from tollgate.api.http import ApiRequest, ApiResponse, json_response
from tollgate.api.router import ErrorRenderer, Match, Route, Router, RouteTable
from tollgate.errors import (
    AuthenticationFailed,
    InternalError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    TollgateError,
)
from tollgate.execution.blocking import BlockingPool
from tollgate.jsonlimits import parse_json_bounded
from tollgate.keys.auth import Principal
from tollgate.observability import bind_more, bind_request, log_at, logger

if TYPE_CHECKING:
    from tollgate.wiring import Services

MAX_QUERY_VALUE = 2048
DATABASE_UNAVAILABLE = "The gateway cannot reach its database right now; the request was not completed, try again"


def error_response(error: TollgateError, request_id: str) -> ApiResponse:
    headers = {"x-request-id": request_id, **error.headers}
    return json_response(error.body(request_id), status=error.http_status, headers=headers)


def describe_validation_error(exc: ValidationError, prefix: str) -> str:
    parts = []
    for item in exc.errors()[:5]:
        location = ".".join(str(p) for p in (prefix, *item["loc"]))
        parts.append(f"{location}: {item['msg']}")
    return "; ".join(parts)


AMBIGUOUS = (
    "More than one credential was sent (a repeated Authorization or x-api-key header, or both with "
    "different keys); send exactly one"
)


def extract_key(request: ApiRequest) -> str | None:
    """The gateway key of a request: ``Authorization: Bearer <key>`` or ``x-api-key: <key>``.

    Raises ``AuthenticationFailed`` (401 ``ambiguous_credentials``) when credentials are ambiguous:
    a repeated header (adapters join repeats with ``", "``; keys never hold a comma) or both headers
    carrying different keys. Never "the last one wins"."""
    authorization = request.header("authorization")
    api_key = request.header("x-api-key")
    found: str | None = None
    if authorization:
        if "," in authorization:
            raise AuthenticationFailed(AMBIGUOUS, code="ambiguous_credentials")
        scheme, _, value = authorization.partition(" ")
        found = value.strip() if scheme.lower() == "bearer" else None
    if api_key is not None:
        key = api_key.strip()
        if "," in key or (found is not None and key != found):
            raise AuthenticationFailed(AMBIGUOUS, code="ambiguous_credentials")
        return key or found
    return found


class GatewayApp:
    """Dispatches requests to routes. ``handle_async`` is the one entry point: async routes (the
    execute path) are awaited on the caller's event loop; synchronous routes (management) run
    whole on a small bounded thread pool, in a copy of the request's context."""

    def __init__(self, routers: Iterable[Router], services: Callable[[], Services], *, sync_workers: int = 8) -> None:
        self.table = RouteTable(routers)
        self._services = services
        self._sync_workers = sync_workers
        self._sync_pool: BlockingPool | None = None

    @property
    def routes(self) -> list[Route]:
        return self.table.routes

    @property
    def sync_pool(self) -> BlockingPool:
        if self._sync_pool is None:
            self._sync_pool = BlockingPool(self._sync_workers, name="tollgate-mgmt")
        return self._sync_pool

    async def handle_async(self, request: ApiRequest) -> ApiResponse:
        bind_request(request.request_id)
        found = self.table.match(request.method, request.path)
        if isinstance(found, Match) and not found.route.is_async:
            return await self.sync_pool.run(self.handle, request)
        try:
            response = await self._dispatch_async(request, found)
        except Exception as exc:
            return self._failure(exc, request)
        response.headers.setdefault("x-request-id", request.request_id)
        return response

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Serve a synchronous route from synchronous code (an async route answers 500 here)."""
        bind_request(request.request_id)
        try:
            response = self._dispatch(request)
        except Exception as exc:
            return self._failure(exc, request)
        response.headers.setdefault("x-request-id", request.request_id)
        return response

    def _failure(self, exc: Exception, request: ApiRequest) -> ApiResponse:
        """The error response for an exception escaping a route, in the shape of the API the route
        belongs to (Anthropic's for /v1/messages); both dispatch paths use it."""
        return _failure(exc, request, self._renderer(request))

    def _renderer(self, request: ApiRequest) -> ErrorRenderer:
        found = self.table.match(request.method, request.path)
        if isinstance(found, Match) and found.route.error_renderer is not None:
            return found.route.error_renderer
        return error_response

    def _dispatch(self, request: ApiRequest) -> ApiResponse:
        found = _matched(self.table.match(request.method, request.path), request)
        if found.route.is_async:
            raise RuntimeError(f"{found.route.path} is an async route; serve it with handle_async")
        services = self._services()
        _check_size(request, services)
        principal = self._authorize(found, request, services)
        context = self._context(found, request, services, principal)
        result = found.route.handler(context)
        if not isinstance(result, ApiResponse):
            raise TypeError(f"{found.route.path}: a sync route must return an ApiResponse")
        return result

    async def _dispatch_async(self, request: ApiRequest, match: Match | tuple[str, ...] | None) -> ApiResponse:
        found = _matched(match, request)
        services = self._services()
        _check_size(request, services)
        principal = None
        if found.route.roles:  # a key the authenticator has in memory is checked here, on the loop
            principal = self._authorize_cached(found, request, services)
            if principal is None:
                principal = await services.blocking.run(self._authorize, found, request, services)
        context = self._context(found, request, services, principal)
        result = found.route.handler(context)
        if isinstance(result, ApiResponse):
            raise TypeError(f"{found.route.path}: an async route must return an awaitable")
        return await result

    @staticmethod
    def _context(found: Match, request: ApiRequest, services: Services, principal: Principal | None) -> RequestContext:
        if principal is not None and principal.workspace_id is not None:
            bind_more(workspace_id=str(principal.workspace_id))
        context = RequestContext(request=request, principal=principal, services=services, path_params=found.params)
        route = found.route
        if route.body is not None:
            context.parsed_body = parse_body(route.body, request.body)
        if route.query is not None:
            context.parsed_query = parse_query(route.query, request.query)
        return context

    @staticmethod
    def _authorize_cached(found: Match, request: ApiRequest, services: Services) -> Principal | None:
        """The caller when the authenticator answers from memory (``Authenticator.cached``), with
        the route's role check; None when ``_authorize`` must run (on the blocking pool)."""
        principal = services.authenticator.cached(extract_key(request))
        if principal is not None and principal.role not in found.route.roles:
            raise _forbidden(principal.role, found, request)
        return principal

    @staticmethod
    def _authorize(found: Match, request: ApiRequest, services: Services) -> Principal | None:
        roles = found.route.roles
        if not roles:
            return None
        try:
            principal = services.authenticator.authenticate(extract_key(request))
        except TollgateError:
            raise
        except Exception as exc:  # the database is gone: fail closed
            logger.exception("authentication backend failed")
            raise ServiceUnavailable("The gateway cannot verify keys right now; try again") from exc
        if principal.role not in roles:
            raise _forbidden(principal.role, found, request)
        return principal


def _forbidden(role: str, found: Match, request: ApiRequest) -> PermissionDenied:
    """403 naming the request as sent (not the route pattern) and the roles the route allows."""
    article = "An" if role[:1] in "aeiou" else "A"
    allowed = ", ".join(sorted(found.route.roles))
    return PermissionDenied(f"{article} {role} key cannot {request.method} {request.path[:200]} (allowed: {allowed})")


def _check_size(request: ApiRequest, services: Services) -> None:
    if len(request.body) > services.settings.max_body_bytes:
        raise InvalidRequest(
            f"Request body exceeds {services.settings.max_body_bytes} bytes", code="body_too_large", status=413
        )


def _matched(found: Match | tuple[str, ...] | None, request: ApiRequest) -> Match:
    if found is None:
        raise NotFound(f"No route for {request.method} {request.path}", code="unknown_route")
    if isinstance(found, tuple):
        raise InvalidRequest(
            f"Method {request.method} not allowed here",
            code="method_not_allowed",
            status=405,
            headers={"allow": ", ".join(found)},
        )
    return found


def _failure(exc: Exception, request: ApiRequest, render: ErrorRenderer = error_response) -> ApiResponse:
    """The error response for an exception escaping a route (fail closed when the database is gone
    or its connection pool is exhausted: 503, never 500)."""
    if isinstance(exc, TollgateError):
        log_at(exc.log_level, "request failed", error_type=exc.type, error_code=exc.code)
        return render(exc, request.request_id)
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        logger.exception("database unavailable")
        return render(ServiceUnavailable(DATABASE_UNAVAILABLE), request.request_id)
    logger.exception("unhandled error")
    return render(InternalError("Internal error; see logs for this request id"), request.request_id)


def parse_body(model: type[BaseModel], raw: bytes) -> BaseModel:
    """The JSON body validated as ``model``. Raises ``InvalidRequest`` (400, naming the field) when it is not."""
    if not raw.strip():
        raise InvalidRequest("Request body is required (JSON object)", code="missing_body")
    data: Any = parse_json_bounded(raw)
    if not isinstance(data, dict):
        raise InvalidRequest("Request body must be a JSON object", code="bad_json")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest(describe_validation_error(exc, "body"), code="validation_error") from None


def parse_query(model: type[BaseModel], query: dict[str, str] | Any) -> BaseModel:
    """The query string validated as ``model``. Raises ``InvalidRequest`` (400, naming the parameter) when it is not."""
    if any(len(v) > MAX_QUERY_VALUE for v in query.values()):
        raise InvalidRequest("Query parameter too long", code="validation_error")
    try:
        return model.model_validate(dict(query))
    except ValidationError as exc:
        raise InvalidRequest(describe_validation_error(exc, "query"), code="validation_error") from None
