"""What a route handler receives: the request, the caller, parsed input and the services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from tollgate.api.http import ApiRequest
from tollgate.errors import NotFound, PermissionDenied
from tollgate.ids import parse_uuid
from tollgate.keys.auth import Principal

if TYPE_CHECKING:
    from tollgate.wiring import Services

M = TypeVar("M", bound=BaseModel)


@dataclass
class RequestContext:
    request: ApiRequest
    principal: Principal | None
    services: Services
    path_params: dict[str, str]
    parsed_body: BaseModel | None = None
    parsed_query: BaseModel | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def request_id(self) -> str:
        return self.request.request_id

    @property
    def caller(self) -> Principal:
        """The authenticated key. Raises ``PermissionDenied`` on a route that takes no key."""
        if self.principal is None:
            raise PermissionDenied("This route needs an API key")
        return self.principal

    @property
    def workspace_id(self) -> uuid.UUID:
        """The caller's workspace. Raises ``PermissionDenied`` when the caller has none (the root key)."""
        principal = self.caller
        if principal.workspace_id is None:
            raise PermissionDenied("The root key manages workspaces; use a workspace key for this route")
        return principal.workspace_id

    def body(self, model: type[M]) -> M:
        """The body as the route declared it. Raises ``TypeError`` when ``model`` is not the route's body model."""
        if not isinstance(self.parsed_body, model):
            raise TypeError(f"route did not declare body model {model.__name__}")
        return self.parsed_body

    def query(self, model: type[M]) -> M:
        """The query as the route declared it. Raises ``TypeError`` when ``model`` is not the route's query model."""
        if not isinstance(self.parsed_query, model):
            raise TypeError(f"route did not declare query model {model.__name__}")
        return self.parsed_query

    def path_id(self, name: str = "id") -> uuid.UUID:
        """A UUID path parameter; anything that is not one cannot exist, so it is a 404."""
        value = parse_uuid(self.path_params.get(name, ""))
        if value is None:
            raise NotFound(f"No such {name}")
        return value
