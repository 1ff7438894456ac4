"""Workspaces and gateway keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, PlainSerializer, field_validator, model_validator

from tollgate.api.schemas.common import Strict
from tollgate.currencies import normalize_currency
from tollgate.keys.limits import validate_model_glob
from tollgate.money import format_usd

UnpricedPolicy = Literal["block_unpriced", "estimate"]
Usd = Annotated[Decimal, PlainSerializer(format_usd, return_type=str)]
MAX_COST_PER_REQUEST_USD = Decimal("1000000")
MAX_PER_MINUTE = 2_000_000_000  # the columns are INTEGER


class WorkspaceIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    unpriced_policy: UnpricedPolicy = "block_unpriced"


class WorkspacePatch(Strict):
    """Fields left out stay as they are; ``display_currency: null`` switches the second currency off."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    unpriced_policy: UnpricedPolicy | None = None
    display_currency: str | None = Field(default=None, min_length=1, max_length=8)

    @field_validator("display_currency")
    @classmethod
    def _iso_4217(cls, value: str | None) -> str | None:
        return None if value is None else normalize_currency(value)

    @model_validator(mode="after")
    def _no_null_name_or_policy(self) -> WorkspacePatch:
        for name in ("name", "unpriced_policy"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class WorkspaceOut(BaseModel):
    id: uuid.UUID
    name: str
    unpriced_policy: str
    display_currency: str | None = None
    created_at: datetime


class KeyLimitsIn(Strict):
    """Optional limits of a gateway key (see tollgate.keys.limits for how each is enforced)."""

    allowed_models: list[str] | None = Field(
        default=None, max_length=100, description='globs on "provider/model", e.g. "openai/gpt-4o*"; null: any model'
    )
    rpm_limit: int | None = Field(default=None, ge=1, le=MAX_PER_MINUTE, description="requests per minute")
    tpm_limit: int | None = Field(default=None, ge=1, le=MAX_PER_MINUTE, description="tokens per minute")
    max_cost_per_request_usd: Decimal | None = Field(
        default=None, gt=0, le=MAX_COST_PER_REQUEST_USD, max_digits=22, decimal_places=12
    )
    expires_at: AwareDatetime | None = Field(default=None, description="RFC 3339 with an offset; refused after it")

    @field_validator("allowed_models")
    @classmethod
    def _globs(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return list(dict.fromkeys(validate_model_glob(glob) for glob in value))


class KeyIn(KeyLimitsIn):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "member"] = "member"
    workspace_id: uuid.UUID | None = Field(default=None, description="required with the root key")


class KeyPatch(KeyLimitsIn):
    """Fields left out stay as they are; a limit set to null is removed."""

    name: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _no_null_name(self) -> KeyPatch:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class KeyOut(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID | None
    public_id: str
    name: str
    role: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    allowed_models: list[str] | None = None
    rpm_limit: int | None = None
    tpm_limit: int | None = None
    max_cost_per_request_usd: Usd | None = None
    expires_at: datetime | None = None


class KeyCreated(KeyOut):
    key: str = Field(description="the secret, shown only in this response")
