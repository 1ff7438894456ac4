"""Provider health alerts: ``provider.failover`` and ``provider.recovered``.

Who sends: the health tracker claims each announcement in ``credential_health`` with a conditional
UPDATE (a failover once per cooldown window per credential, a recovery once per failure streak), so
exactly one instance publishes it. How: the same outbox publish and the same delivery as budget alerts;
the message names no channels, delivery sends it to the workspace's channels whose ``events`` include
``provider``.

Payload (also the webhook body): ``{event, workspace_id, credential_id, credential_name, provider,
model, error_type?, serving?: {credential_id, credential_name, provider, model} | null, summary, sent_at}``.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from tollgate.alerts.events import PROVIDER_FAILOVER, PROVIDER_RECOVERED
from tollgate.budgets.outbox import AlertOutbox
from tollgate.execution.resolver import Candidate


class ProviderEvents(Protocol):
    def failover(self, workspace_id: uuid.UUID, failed: Candidate, error_type: str, served: Candidate | None) -> None:
        """Announce that ``failed`` failed with ``error_type`` and ``served`` (or nothing) answered instead."""
        ...

    def recovered(self, workspace_id: uuid.UUID, candidate: Candidate) -> None:
        """Announce that ``candidate``'s credential answered again after failures."""
        ...


def _describe(candidate: Candidate) -> dict[str, Any]:
    target = candidate.target
    return {
        "credential_id": str(target.credential_id) if target.credential_id else None,
        "credential_name": target.credential_name,
        "provider": candidate.provider,
        "model": candidate.model,
    }


def _label(candidate: Candidate) -> str:
    name = candidate.target.credential_name
    return f"{candidate.provider} ({name})" if name else candidate.provider


def failover_payload(
    workspace_id: uuid.UUID, failed: Candidate, error_type: str, served: Candidate | None
) -> dict[str, Any]:
    if served is not None:
        summary = f"Provider {_label(failed)} is unavailable ({error_type}). Switched to {_label(served)}."
    else:
        summary = f"Provider {_label(failed)} is unavailable ({error_type}) and no other provider could answer."
    return {
        "event": PROVIDER_FAILOVER,
        "workspace_id": str(workspace_id),
        **_describe(failed),
        "error_type": error_type,
        "serving": _describe(served) if served is not None else None,
        "summary": summary,
    }


def recovered_payload(workspace_id: uuid.UUID, candidate: Candidate) -> dict[str, Any]:
    return {
        "event": PROVIDER_RECOVERED,
        "workspace_id": str(workspace_id),
        **_describe(candidate),
        "summary": f"Provider {_label(candidate)} is available again.",
    }


def event_message(payload: dict[str, Any]) -> dict[str, Any]:
    """The queue message around a payload: routing by workspace and event group, no channel list."""
    return {
        "kind": payload["event"],
        "alert_id": str(uuid.uuid4()),
        "workspace_id": payload["workspace_id"],
        "payload": payload,
    }


class OutboxProviderEvents:
    def __init__(self, outbox: AlertOutbox) -> None:
        self._outbox = outbox

    def failover(self, workspace_id: uuid.UUID, failed: Candidate, error_type: str, served: Candidate | None) -> None:
        self._outbox.publish([event_message(failover_payload(workspace_id, failed, error_type, served))])

    def recovered(self, workspace_id: uuid.UUID, candidate: Candidate) -> None:
        self._outbox.publish([event_message(recovered_payload(workspace_id, candidate))])
