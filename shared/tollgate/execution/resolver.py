"""Turn the requested ``model`` into an ordered list of candidates (provider, model, target).

``provider/model`` picks a provider; ``custom:<credential name>/<model>`` a custom endpoint;
a bare id is served by the workspace's primary credential. The first candidate is tried first,
the rest are failover targets.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from tollgate.errors import InvalidRequest
from tollgate.providers.base import ProviderTarget


@dataclass(frozen=True)
class Candidate:
    provider: str
    model: str
    target: ProviderTarget


class CredentialSource(Protocol):
    """Decrypted, active credentials of a workspace, best first (priority, then primary)."""

    def targets_for(
        self, workspace_id: uuid.UUID, provider: str | None, name: str | None = None
    ) -> list[ProviderTarget]: ...


MOCK_TARGET = ProviderTarget(provider="mock", base_url="builtin://mock", api_key="")


@dataclass(frozen=True)
class ModelRef:
    provider: str | None  # None: a bare model id
    model: str
    credential_name: str | None = None


def parse_model(value: str) -> ModelRef:
    """``model`` split into provider, credential name and model id. Raises ``InvalidRequest`` when it is empty."""
    value = value.strip()
    if not value:
        raise InvalidRequest("body.model: must not be empty", code="validation_error")
    head, sep, tail = value.partition("/")
    if head.startswith("custom:") and sep and tail:
        return ModelRef(provider="custom", model=tail, credential_name=head.removeprefix("custom:"))
    if sep and tail:
        return ModelRef(provider=head.lower(), model=tail)
    return ModelRef(provider=None, model=value)


class ModelResolver:
    """``equivalents`` maps ``provider/model`` to other ``provider/model`` ids that may serve it
    (settings.model_equivalents); their credentials are appended as failover candidates."""

    def __init__(
        self,
        credentials: CredentialSource,
        known_providers: frozenset[str],
        equivalents: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._credentials = credentials
        self._known = known_providers
        self._equivalents = {k.lower(): list(v) for k, v in (equivalents or {}).items()}

    def resolve(self, workspace_id: uuid.UUID, requested: str) -> list[Candidate]:
        """The candidates to try, in order. Raises ``InvalidRequest`` (``unknown_model``) for a provider
        Tollgate does not know and (``no_credential``) when no active credential serves the model."""
        ref = parse_model(requested)
        if ref.provider == "mock":
            return [Candidate("mock", ref.model, MOCK_TARGET)]
        if ref.provider is not None and ref.provider not in self._known:
            raise InvalidRequest(f"Unknown provider '{ref.provider}' in model '{requested}'", code="unknown_model")
        targets = self._credentials.targets_for(workspace_id, ref.provider, ref.credential_name)
        candidates = [Candidate(t.provider, ref.model, t) for t in targets]
        if not candidates:
            what = ref.credential_name or ref.provider or "this workspace"
            raise InvalidRequest(
                f"No active provider credential for {what}; add one with POST /v1/credentials",
                code="no_credential",
            )
        return candidates + self._equivalent_candidates(workspace_id, candidates)

    def _equivalent_candidates(self, workspace_id: uuid.UUID, primary: list[Candidate]) -> list[Candidate]:
        seen = {(c.target.credential_id, c.provider, c.model) for c in primary}
        extra: list[Candidate] = []
        for key in dict.fromkeys(f"{c.provider}/{c.model}".lower() for c in primary):
            for equivalent in self._equivalents.get(key, ()):
                ref = parse_model(equivalent)
                if ref.provider is None or ref.provider not in self._known or ref.provider == "mock":
                    continue
                for target in self._credentials.targets_for(workspace_id, ref.provider, ref.credential_name):
                    identity = (target.credential_id, target.provider, ref.model)
                    if identity not in seen:
                        seen.add(identity)
                        extra.append(Candidate(target.provider, ref.model, target))
        return extra
