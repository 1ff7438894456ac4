"""The models a workspace can call (``GET /v1/models``).

Rule: the built-in mock models; for every active credential its ``default_model``; and for every
provider the workspace has an active credential for (except ``custom``, whose models are whatever the
endpoint serves), every model with a current price; for ``custom`` credentials, the models their last
``POST /v1/credentials/{id}/discover`` found. A ``free`` custom credential's models are priced at an
explicit zero with ``price_source: "free"``. Ids are what ``model`` accepts:
``provider/model``, and ``custom:<credential name>/<model>`` for custom endpoints. Prices are the
ones this workspace is billed (``pricing.precedence``, the same rule the execute path uses),
``null`` when unpriced.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from tollgate.db.models import ModelPrice, ProviderCredential
from tollgate.pricing.precedence import best_of
from tollgate.pricing.unpriced import FREE_SOURCE
from tollgate.providers.mock import MOCK_MODELS


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    owned_by: str
    input_per_1m: Decimal | None
    output_per_1m: Decimal | None
    price_source: str | None = None


class ModelCatalog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def list(self, workspace_id: uuid.UUID) -> list[CatalogEntry]:
        with self._sessions() as session:
            credentials = session.execute(
                select(
                    ProviderCredential.provider,
                    ProviderCredential.name,
                    ProviderCredential.default_model,
                    ProviderCredential.free,
                    ProviderCredential.models,
                ).where(ProviderCredential.workspace_id == workspace_id, ProviderCredential.is_active.is_(True))
            ).all()
            providers = {"mock"} | {row.provider for row in credentials}
            price_rows = session.scalars(
                select(ModelPrice).where(
                    ModelPrice.provider.in_(providers),
                    ModelPrice.effective_to.is_(None),
                    or_(ModelPrice.workspace_id.is_(None), ModelPrice.workspace_id == workspace_id),
                )
            ).all()
        grouped: dict[tuple[str, str], list[ModelPrice]] = {}
        for price_row in price_rows:
            grouped.setdefault((price_row.provider, price_row.model), []).append(price_row)
        prices = {key: best for key, rows in grouped.items() if (best := best_of(rows, workspace_id)) is not None}
        entries: dict[str, CatalogEntry] = {}

        def add(model_id: str, provider: str, model: str, free: bool = False) -> None:
            if free:
                entries.setdefault(model_id, CatalogEntry(model_id, provider, Decimal(0), Decimal(0), FREE_SOURCE))
                return
            price = prices.get((provider, model))
            entries.setdefault(
                model_id,
                CatalogEntry(
                    model_id,
                    provider,
                    price.input_per_1m if price else None,
                    price.output_per_1m if price else None,
                    price.source if price else None,
                ),
            )

        for model in MOCK_MODELS:
            add(f"mock/{model}", "mock", model)
        for credential in credentials:
            prefix = f"custom:{credential.name}" if credential.provider == "custom" else credential.provider
            free = credential.provider == "custom" and bool(credential.free)
            if credential.default_model:
                add(f"{prefix}/{credential.default_model}", credential.provider, credential.default_model, free)
            if credential.provider == "custom":
                for model in credential.models or ():
                    add(f"{prefix}/{model}", "custom", model, free)
        for provider, model in sorted(prices):
            if provider != "custom":
                add(f"{provider}/{model}", provider, model)
        return sorted(entries.values(), key=lambda e: e.id)
