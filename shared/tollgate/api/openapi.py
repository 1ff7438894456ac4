"""An OpenAPI 3.1 document generated from the route table and its pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

from tollgate import __version__
from tollgate.api.router import Route, Router, RouteTable
from tollgate.api.schemas.common import ErrorBody

_PARAM = re.compile(r"\{(\w+)\}")
_ERRORS = {
    "400": "Invalid request",
    "401": "Missing or invalid key",
    "403": "Role not allowed",
    "404": "Unknown id or route",
    "413": "Body too large",
    "500": "Internal error",
}


def _schema_ref(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schema.pop("$defs", {}).items():
        components[name] = definition
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": prop}
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation(route: Route, components: dict[str, Any]) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": _schema_ref(route.error_body or ErrorBody, components)}}}
    responses: dict[str, Any] = {code: {"description": text, **error} for code, text in _ERRORS.items()}
    ok: dict[str, Any] = {"description": "OK"}
    if route.response is not None:
        ok["content"] = {"application/json": {"schema": _schema_ref(route.response, components)}}
    else:
        ok["content"] = {"application/json": {"schema": {"type": "object"}}}
    responses[str(route.status)] = ok
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": f"{route.method.lower()}_{route.handler.__name__}",
        "tags": [route.function],
        "responses": responses,
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PARAM.findall(route.openapi_path)
    ]
    if route.query is not None:
        parameters.extend(_query_parameters(route.query))
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_ref(route.body, components)}},
        }
    if route.roles:
        operation["security"] = [{"bearer": []}, {"apiKey": []}]
    return operation


def build_openapi(routers: list[Router]) -> dict[str, Any]:
    components: dict[str, Any] = {}
    _schema_ref(ErrorBody, components)
    paths: dict[str, dict[str, Any]] = {}
    for route in sorted(RouteTable(routers).routes, key=lambda r: (r.path, r.method)):
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = _operation(route, components)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Tollgate",
            "version": __version__,
            "description": "OpenAI-compatible AI gateway with cost control",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
            },
        },
    }
