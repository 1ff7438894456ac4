"""Reads and manual writes of ``model_prices`` (feed writes live in ``pricing.refresh``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from tollgate.db.models import ModelPrice
from tollgate.pricing.precedence import MANUAL, SOURCES, best_of


def _visible_to(workspace_id: uuid.UUID | None) -> Any:
    """Global rows, plus ``workspace_id``'s own overrides."""
    if workspace_id is None:
        return ModelPrice.workspace_id.is_(None)
    return or_(ModelPrice.workspace_id.is_(None), ModelPrice.workspace_id == workspace_id)


class PriceRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def current_page(
        self,
        *,
        limit: int,
        provider: str | None = None,
        after: tuple[str, str] | None = None,
        workspace_id: uuid.UUID | None = None,
    ) -> list[ModelPrice]:
        """The winning current row per (provider, model) for ``workspace_id`` (``pricing.precedence``),
        ordered by provider then model. A model has at most one visible current row per source plus
        the workspace's override, so ``limit * (len(SOURCES) + 1)`` rows hold ``limit`` complete models."""
        query = select(ModelPrice).where(ModelPrice.effective_to.is_(None), _visible_to(workspace_id))
        if provider is not None:
            query = query.where(ModelPrice.provider == provider)
        if after is not None:
            query = query.where(tuple_(ModelPrice.provider, ModelPrice.model) > tuple_(*after))
        query = query.order_by(ModelPrice.provider, ModelPrice.model).limit(limit * (len(SOURCES) + 1))
        grouped: dict[tuple[str, str], list[ModelPrice]] = {}
        for row in self._session.scalars(query):
            grouped.setdefault((row.provider, row.model), []).append(row)
        winners = [best_of(rows, workspace_id) for rows in grouped.values()]
        return [row for row in winners if row is not None][:limit]

    def history(self, provider: str, model: str, workspace_id: uuid.UUID | None = None) -> Sequence[ModelPrice]:
        """Every version visible to ``workspace_id`` from every source, newest first."""
        return self._session.scalars(
            select(ModelPrice)
            .where(ModelPrice.provider == provider, ModelPrice.model == model, _visible_to(workspace_id))
            .order_by(ModelPrice.effective_from.desc(), ModelPrice.source)
        ).all()

    def current_manual(self, provider: str, model: str, workspace_id: uuid.UUID | None = None) -> ModelPrice | None:
        """The current override of ``workspace_id`` (None: the global one)."""
        owner = ModelPrice.workspace_id.is_(None) if workspace_id is None else ModelPrice.workspace_id == workspace_id
        return self._session.scalars(
            select(ModelPrice).where(
                ModelPrice.provider == provider,
                ModelPrice.model == model,
                ModelPrice.source == MANUAL,
                ModelPrice.effective_to.is_(None),
                owner,
            )
        ).first()
