"""Routing rules, guardrails and security events (request and response bodies)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from tollgate.api.schemas.common import Strict
from tollgate.guardrails.policy import DETECTORS, GuardAction, GuardrailPolicy
from tollgate.providers.registry import unknown_provider_message, unknown_provider_of
from tollgate.routing.rules import ActionType, RuleAction, RuleMatch
from tollgate.routing.service import RuleSpec

Label = Annotated[str, Field(min_length=1, max_length=200)]
ModelId = Annotated[str, Field(min_length=1, max_length=300)]


class RuleMatchIn(Strict):
    model: str | None = Field(default=None, min_length=1, max_length=300, description="glob on the requested model")
    workflow: Label | None = None
    agent: Label | None = None
    tags: list[Label] = Field(default_factory=list, max_length=20, description="all must be present")
    key_id: uuid.UUID | None = None

    def to_domain(self) -> RuleMatch:
        return RuleMatch(self.model, self.workflow, self.agent, tuple(dict.fromkeys(self.tags)), self.key_id)


class TargetsActionIn(Strict):
    type: Literal["route", "cheapest"]
    targets: list[ModelId] = Field(min_length=1, max_length=10, description="provider/model, tried in order")

    @field_validator("targets")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("targets must not repeat")
        for target in value:  # the execute path refuses an unknown provider (400 unknown_model) every time
            unknown = unknown_provider_of(target)
            if unknown is not None:
                raise ValueError(unknown_provider_message(unknown, where=f" in target {target[:300]!r}"))
        return value

    def to_domain(self) -> RuleAction:
        return RuleAction(ActionType(self.type), tuple(self.targets))


class BlockActionIn(Strict):
    type: Literal["block"]
    message: str = Field(default="Blocked by a routing rule", min_length=1, max_length=500)

    def to_domain(self) -> RuleAction:
        return RuleAction(ActionType.BLOCK, (), self.message)


class RoutingRuleIn(Strict):
    name: Label
    priority: int = Field(default=100, ge=-1_000_000, le=1_000_000, description="lower is evaluated first")
    is_active: bool = True
    match: RuleMatchIn = Field(default_factory=RuleMatchIn)
    action: Annotated[TargetsActionIn | BlockActionIn, Field(discriminator="type")]

    def to_spec(self) -> RuleSpec:
        return RuleSpec(self.name, self.priority, self.is_active, self.match.to_domain(), self.action.to_domain())


class RoutingRuleOut(BaseModel):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    priority: int
    is_active: bool
    match: dict[str, Any]
    action: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class CandidateOut(BaseModel):
    model: str  # the target as the rule spells it
    provider: str | None
    resolved_model: str | None
    credential_ids: list[str]
    available: bool
    error: str | None = None
    input_per_1m: str | None = None
    output_per_1m: str | None = None
    estimated_cost_usd: str | None = None


class MatchedRuleOut(BaseModel):
    id: uuid.UUID
    name: str
    priority: int


class ExplainOut(BaseModel):
    matched_rule: MatchedRuleOut | None
    action: str  # route | cheapest | block | default
    blocked: bool
    message: str | None = None
    candidates: list[CandidateOut]


class DetectorIn(Strict):
    action: GuardAction


class GuardrailsIn(Strict):
    """Detectors left out keep their current action."""

    detectors: dict[str, DetectorIn] = Field(default_factory=dict)
    scan_responses: bool | None = None

    @field_validator("detectors")
    @classmethod
    def _known(cls, value: dict[str, DetectorIn]) -> dict[str, DetectorIn]:
        unknown = sorted(set(value) - set(DETECTORS))
        if unknown:
            raise ValueError(f"unknown detector(s) {', '.join(unknown)}; known: {', '.join(DETECTORS)}")
        return value

    def applied_to(self, current: GuardrailPolicy) -> GuardrailPolicy:
        actions = dict(current.actions)
        actions.update({name: d.action for name, d in self.detectors.items()})
        scan = current.scan_responses if self.scan_responses is None else self.scan_responses
        return GuardrailPolicy(actions, scan)


class DetectorOut(BaseModel):
    action: GuardAction


class GuardrailsOut(BaseModel):
    detectors: dict[str, DetectorOut]
    scan_responses: bool


class SecurityEventOut(BaseModel):
    id: uuid.UUID
    request_id: str
    detector: str
    action: str
    role: str
    message_index: int
    created_at: datetime
