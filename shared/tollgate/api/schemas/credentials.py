"""Provider credentials: what callers send and what they get back (never the key itself)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator

from tollgate.api.schemas.common import Strict
from tollgate.keys.credentials import CredentialSpec
from tollgate.providers.registry import CREDENTIAL_PROVIDERS

if TYPE_CHECKING:
    Provider = str
else:  # the registry's credential providers, as an enum in the OpenAPI schema and the 422 message
    Provider = Literal[CREDENTIAL_PROVIDERS]
MAX_KEY_LENGTH = 1024
MAX_OPTIONS_BYTES = 4096
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"  # usable in `custom:<name>/<model>`
KEY_PATTERN = r"^[\x21-\x7e]+$"  # printable ASCII without spaces: safe in an HTTP header


def _check_options(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is not None and len(json.dumps(value)) > MAX_OPTIONS_BYTES:
        raise ValueError(f"at most {MAX_OPTIONS_BYTES} bytes of JSON")
    return value


class CredentialIn(Strict):
    provider: Provider
    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    api_key: str = Field(min_length=1, max_length=MAX_KEY_LENGTH, pattern=KEY_PATTERN, repr=False)
    base_url: str | None = Field(default=None, max_length=500)
    default_model: str | None = Field(default=None, min_length=1, max_length=200)
    options: dict[str, Any] = Field(
        default_factory=dict, description="provider options, e.g. {'folder_id': '...'} (required for yandex)"
    )
    priority: int = Field(default=100, ge=0, le=1_000_000, description="lower is tried first")
    is_primary: bool = False
    is_active: bool = True
    free: bool = Field(default=False, description="custom only: its models cost nothing (explicit zero, source free)")

    _options = field_validator("options")(_check_options)

    def to_spec(self) -> CredentialSpec:
        return CredentialSpec(**self.model_dump())


class CredentialPatch(Strict):
    """Only the fields sent are changed; ``provider`` is fixed, ``api_key`` rotates the key."""

    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    api_key: str | None = Field(default=None, min_length=1, max_length=MAX_KEY_LENGTH, pattern=KEY_PATTERN, repr=False)
    base_url: str | None = Field(default=None, max_length=500, description="null resets to the provider default")
    default_model: str | None = Field(default=None, min_length=1, max_length=200)
    options: dict[str, Any] | None = None
    priority: int | None = Field(default=None, ge=0, le=1_000_000)
    is_primary: bool | None = None
    is_active: bool | None = None
    free: bool | None = None

    _options = field_validator("options")(_check_options)

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


class RotateIn(Strict):
    api_key: str = Field(min_length=1, max_length=MAX_KEY_LENGTH, pattern=KEY_PATTERN, repr=False)


class CredentialOut(BaseModel):
    id: uuid.UUID
    provider: str
    name: str
    base_url: str
    default_model: str | None
    options: dict[str, Any]
    priority: int
    is_primary: bool
    is_active: bool
    key_hint: str | None
    has_key: bool
    free: bool = False
    models: list[str] | None = Field(default=None, description="custom only: what the last discover found")
    created_at: datetime
    updated_at: datetime
    rotated_at: datetime | None


class DiscoverOut(BaseModel):
    credential_id: uuid.UUID
    models: list[str]
    count: int
    free: bool


class CheckErrorOut(BaseModel):
    type: str
    message: str


class CheckOut(BaseModel):
    ok: bool
    latency_ms: int
    error: CheckErrorOut | None = None


class CredentialHealthOut(BaseModel):
    state: Literal["healthy", "cooling_down", "failing"]
    cooldown_until: datetime | None = Field(description="until when other credentials are tried first")
    consecutive_failures: int
    last_error_type: str | None
    last_success_at: datetime | None = Field(description="recorded at most once a minute per gateway process")
    rpm_used: int = Field(description="requests counted in the current one-minute window")
