"""What one execute call is (``ExecuteCall``) and what it answers (``ExecuteResult``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from tollgate.execution.attribution import Attribution
from tollgate.execution.deadline import Deadline
from tollgate.execution.operations import CallOperation


@dataclass(frozen=True)
class ExecuteCall:
    workspace_id: uuid.UUID
    key_id: uuid.UUID | None
    request_id: str
    body: dict[str, Any]
    attribution: Attribution
    # None: the workspace's policy, read only when a model turns out to be unpriced.
    unpriced_policy: str | None = None
    # When the invocation must have answered (retries, failover and the upstream read share it).
    deadline: Deadline | None = None
    # Not a chat completion (/v1/messages, /v1/embeddings): the provider-facing steps (operations.py).
    operation: CallOperation | None = None
    # Resolve this model id instead of body["model"] (which stays the requested_model on the usage row).
    resolve_as: str | None = None
    # ``time.perf_counter()`` at request receipt (``ApiRequest.received``): the usage row's
    # ``latency_ms`` starts here; None (direct callers, tests): it starts when planning starts.
    received: float | None = None

    @property
    def requested_model(self) -> str:
        return str(self.body["model"])

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))


@dataclass
class ExecuteResult:
    headers: dict[str, str]
    body: dict[str, Any] | None = None
    chunks: AsyncIterator[bytes] | None = None
