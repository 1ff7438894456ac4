"""All tables (docs/data-model.md). Importing this module registers every model on ``Base.metadata``."""

from tollgate.db.models.base import Base
from tollgate.db.models.budgets import AlertChannel, AlertCooldown, AlertSent, Budget, BudgetCounter, Reservation
from tollgate.db.models.pricing import FxRate, ModelPrice, PricingStatus
from tollgate.db.models.rules import GuardrailSettingsRow, RoutingRuleRow, SecurityEvent
from tollgate.db.models.tenancy import CredentialHealth, GatewayKey, KeyRateWindow, ProviderCredential, Workspace
from tollgate.db.models.usage import UsageDaily, UsageRecord

__all__ = [
    "AlertChannel",
    "AlertCooldown",
    "AlertSent",
    "Base",
    "Budget",
    "BudgetCounter",
    "CredentialHealth",
    "FxRate",
    "GuardrailSettingsRow",
    "GatewayKey",
    "KeyRateWindow",
    "ModelPrice",
    "PricingStatus",
    "ProviderCredential",
    "Reservation",
    "RoutingRuleRow",
    "SecurityEvent",
    "UsageDaily",
    "UsageRecord",
    "Workspace",
]
