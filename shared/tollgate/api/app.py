"""The dispatcher shared by every deployment: match, limit, authenticate, validate, call, map errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError

from tollgate.api.context import RequestContext
from tollgate.api.http import ApiRequest, ApiResponse, json_response
from tollgate.api.router import Match, Route, Router, RouteTable
from tollgate.errors import (
    InternalError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    TollgateError,
)
from tollgate.jsonlimits import parse_json_bounded
from tollgate.keys.auth import Principal
from tollgate.observability import bind_request, log_at, logger

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


def extract_key(request: ApiRequest) -> str | None:
    authorization = request.header("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        return value.strip() if scheme.lower() == "bearer" else None
    return request.header("x-api-key")


class GatewayApp:
    def __init__(self, routers: Iterable[Router], services: Callable[[], Services]) -> None:
        self.table = RouteTable(routers)
        self._services = services

    @property
    def routes(self) -> list[Route]:
        return self.table.routes

    def handle(self, request: ApiRequest) -> ApiResponse:
        bind_request(request.request_id)
        try:
            response = self._dispatch(request)
        except TollgateError as exc:
            log_at(exc.log_level, "request failed", error_type=exc.type, error_code=exc.code)
            return error_response(exc, request.request_id)
        except (OperationalError, InterfaceError):  # the database went away (DESIGN §4: fail closed)
            logger.exception("database unavailable")
            return error_response(ServiceUnavailable(DATABASE_UNAVAILABLE), request.request_id)
        except Exception:
            logger.exception("unhandled error")
            return error_response(InternalError("Internal error; see logs for this request id"), request.request_id)
        response.headers.setdefault("x-request-id", request.request_id)
        return response

    def _dispatch(self, request: ApiRequest) -> ApiResponse:
        found = self.table.match(request.method, request.path)
        if found is None:
            raise NotFound(f"No route for {request.method} {request.path}", code="unknown_route")
        if isinstance(found, tuple):
            raise InvalidRequest(
                f"Method {request.method} not allowed here",
                code="method_not_allowed",
                status=405,
                headers={"allow": ", ".join(found)},
            )
        services = self._services()
        if len(request.body) > services.settings.max_body_bytes:
            raise InvalidRequest(
                f"Request body exceeds {services.settings.max_body_bytes} bytes", code="body_too_large", status=413
            )
        principal = self._authorize(found, request, services)
        if principal is not None and principal.workspace_id is not None:
            bind_request(request.request_id, workspace_id=str(principal.workspace_id))
        context = RequestContext(request=request, principal=principal, services=services, path_params=found.params)
        route = found.route
        if route.body is not None:
            context.parsed_body = parse_body(route.body, request.body)
        if route.query is not None:
            context.parsed_query = parse_query(route.query, request.query)
        return route.handler(context)

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
            raise PermissionDenied(f"A {principal.role} key cannot {request.method} {found.route.path}")
        return principal


def parse_body(model: type[BaseModel], raw: bytes) -> BaseModel:
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
    if any(len(v) > MAX_QUERY_VALUE for v in query.values()):
        raise InvalidRequest("Query parameter too long", code="validation_error")
    try:
        return model.model_validate(dict(query))
    except ValidationError as exc:
        raise InvalidRequest(describe_validation_error(exc, "query"), code="validation_error") from None
