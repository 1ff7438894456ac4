"""Reads and manual writes of ``model_prices`` (feed writes live in ``pricing.refresh``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from tollgate.db.models import ModelPrice
from tollgate.pricing.book import SOURCES, best_of


class PriceRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def current_page(
        self, *, limit: int, provider: str | None = None, after: tuple[str, str] | None = None
    ) -> list[ModelPrice]:
        """The winning current row per (provider, model), ordered by provider then model.
        Each model has at most one current row per source, so ``limit * len(SOURCES)`` rows
        always hold ``limit`` complete models."""
        query = select(ModelPrice).where(ModelPrice.effective_to.is_(None))
        if provider is not None:
            query = query.where(ModelPrice.provider == provider)
        if after is not None:
            query = query.where(tuple_(ModelPrice.provider, ModelPrice.model) > tuple_(*after))
        query = query.order_by(ModelPrice.provider, ModelPrice.model).limit(limit * len(SOURCES))
        grouped: dict[tuple[str, str], list[ModelPrice]] = {}
        for row in self._session.scalars(query):
            grouped.setdefault((row.provider, row.model), []).append(row)
        winners = [best_of(rows) for rows in grouped.values()]
        return [row for row in winners if row is not None][:limit]

    def history(self, provider: str, model: str) -> Sequence[ModelPrice]:
        """Every version from every source, newest first."""
        return self._session.scalars(
            select(ModelPrice)
            .where(ModelPrice.provider == provider, ModelPrice.model == model)
            .order_by(ModelPrice.effective_from.desc(), ModelPrice.source)
        ).all()

    def current_manual(self, provider: str, model: str) -> ModelPrice | None:
        return self._session.scalars(
            select(ModelPrice).where(
                ModelPrice.provider == provider,
                ModelPrice.model == model,
                ModelPrice.source == "manual",
                ModelPrice.effective_to.is_(None),
            )
        ).first()
