"""Who and what a call is for: workflow, agent and tags from headers or the body's ``metadata``; the end
user from the header ``X-Tollgate-User`` or the OpenAI body field ``user``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_LABEL = 200
MAX_TAGS = 20


@dataclass(frozen=True)
class Attribution:
    workflow: str | None = None
    agent: str | None = None
    tags: list[str] = field(default_factory=list)
    user: str | None = None


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()[:MAX_LABEL]
    return text or None


def attribution_from(
    headers: Mapping[str, str], metadata: Mapping[str, Any] | None, body_user: Any = None
) -> Attribution:
    metadata = metadata or {}
    user = _clean(headers.get("x-tollgate-user")) or (_clean(body_user) if isinstance(body_user, str) else None)
    workflow = _clean(headers.get("x-tollgate-workflow")) or _clean(metadata.get("workflow"))
    agent = _clean(headers.get("x-tollgate-agent")) or _clean(metadata.get("agent"))
    raw_tags: Any = headers.get("x-tollgate-tags") or metadata.get("tags") or []
    if isinstance(raw_tags, str):
        raw_tags = raw_tags.split(",")
    tags = [t for t in (_clean(tag) for tag in raw_tags if isinstance(tag, str | int)) if t][:MAX_TAGS]
    return Attribution(workflow=workflow, agent=agent, tags=tags, user=user)
