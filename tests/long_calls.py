"""Setup shared by the long-call and deadline tests: an OpenAI credential on a fake plus a
workspace budget that blocks, and the budget ledger read back (usage rows, spent, reserved, held
reservations)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from tests.fake_providers.base import FakeProvider
from tests.support import Tenant
from tollgate.budgets.periods import Period
from tollgate.budgets.spec import Action, BudgetSpec, Scope
from tollgate.db.models import BudgetCounter, Reservation, UsageRecord
from tollgate.keys.credentials import CredentialSpec
from tollgate.wiring import Services


def openai_with_budget(services: Services, tenant: Tenant, fake: FakeProvider, api_key: str) -> None:
    """An ``openai`` credential ``main`` on ``fake`` and a 10 USD monthly workspace budget that blocks."""
    services.credential_service.create(
        tenant.workspace_id,
        CredentialSpec(provider="openai", name="main", api_key=api_key, base_url=fake.url + "/v1"),
    )
    services.budget_service.create(
        tenant.workspace_id,
        BudgetSpec(
            name="team",
            scope=Scope.WORKSPACE,
            scope_value=None,
            period=Period.MONTHLY,
            timezone="UTC",
            limit_usd=Decimal("10"),
            action=Action.BLOCK,
        ),
    )


def ledger(services: Services) -> tuple[list[UsageRecord], Decimal, Decimal, int]:
    """(usage rows oldest first, budget spent, budget reserved, reservations still held)."""
    with services.sessions() as session:
        rows = list(session.scalars(select(UsageRecord).order_by(UsageRecord.created_at)))
        spent = session.scalar(select(func.coalesce(func.sum(BudgetCounter.spent_usd), 0)))
        reserved = session.scalar(select(func.coalesce(func.sum(BudgetCounter.reserved_usd), 0)))
        held = session.scalar(select(func.count()).select_from(Reservation))
    return rows, Decimal(spent or 0), Decimal(reserved or 0), int(held or 0)
