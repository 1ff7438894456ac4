"""Built-in price rows that must exist on every install (the priced ``mock`` models)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tollgate.db.models import ModelPrice

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)

# The mock provider is priced like a small hosted model so the whole cost path is exercised.
BUILTIN_PRICES = (("mock", "echo", Decimal("0.15"), Decimal("0.60")),)


def seed_builtin_prices(session: Session) -> int:
    written = 0
    for provider, model, input_per_1m, output_per_1m in BUILTIN_PRICES:
        exists = session.scalars(
            select(ModelPrice.id).where(ModelPrice.provider == provider, ModelPrice.model == model).limit(1)
        ).first()
        if exists is not None:
            continue
        session.add(
            ModelPrice(
                provider=provider,
                model=model,
                source="manual",
                input_per_1m=input_per_1m,
                output_per_1m=output_per_1m,
                max_output_tokens=4096,
                effective_from=EPOCH,
            )
        )
        written += 1
    session.flush()
    return written
