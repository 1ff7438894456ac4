"""Workspaces and gateway keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tollgate.api.schemas.common import Strict


class WorkspaceIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    unpriced_policy: Literal["block_unpriced", "estimate"] = "block_unpriced"


class WorkspaceOut(BaseModel):
    id: uuid.UUID
    name: str
    unpriced_policy: str
    created_at: datetime


class KeyIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["admin", "member"] = "member"
    workspace_id: uuid.UUID | None = Field(default=None, description="required with the root key")


class KeyOut(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID | None
    public_id: str
    name: str
    role: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="the secret, shown only in this response")
