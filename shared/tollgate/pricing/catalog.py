"""What the pricing routes need: current prices, history, status and the manual override."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tollgate.clock import Clock
from tollgate.db.models import ModelPrice
from tollgate.db.repositories.prices import PriceRepository
from tollgate.errors import NotFound
from tollgate.pricing.calculator import PriceRow
from tollgate.pricing.precedence import best_of, to_price_row
from tollgate.pricing.status import PricingStatusView, read_status

MANUAL = "manual"


@dataclass(frozen=True)
class PriceHistory:
    current: ModelPrice | None
    versions: list[ModelPrice]


class PriceCatalog:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock, stale_after_s: int) -> None:
        self._sessions = sessions
        self._clock = clock
        self._stale_after_s = stale_after_s

    def current_page(
        self, limit: int, provider: str | None, after: tuple[str, str] | None, workspace_id: uuid.UUID | None = None
    ) -> list[ModelPrice]:
        with self._sessions() as session:
            return PriceRepository(session).current_page(
                limit=limit, provider=provider, after=after, workspace_id=workspace_id
            )

    def history(self, provider: str, model: str, workspace_id: uuid.UUID | None = None) -> PriceHistory:
        """Every version of one model's price visible to ``workspace_id`` (None: global only). Raises
        ``NotFound`` when the model has none."""
        with self._sessions() as session:
            versions = list(PriceRepository(session).history(provider, model, workspace_id))
        if not versions:
            raise NotFound(f"No price is known for {provider}/{model}")
        current = best_of((v for v in versions if v.effective_to is None), workspace_id)
        return PriceHistory(current, versions)

    def status(self) -> PricingStatusView:
        with self._sessions() as session:
            return read_status(session, self._clock.now(), self._stale_after_s)

    def set_manual(self, price: PriceRow, workspace_id: uuid.UUID | None = None) -> tuple[ModelPrice, bool]:
        """Make ``price`` the manual override of ``workspace_id`` (None: global, root's). A workspace
        override wins over every global row for that workspace only (``pricing.precedence``).
        Returns the current manual row and whether a new version was written (an identical override
        writes nothing)."""
        now = self._clock.now()
        with self._sessions.begin() as session:
            repository = PriceRepository(session)
            old = repository.current_manual(price.provider, price.model, workspace_id)
            if old is not None:
                same = to_price_row(old).prices() == price.prices()
                limits = (old.max_output_tokens, old.max_input_tokens) == (
                    price.max_output_tokens,
                    price.max_input_tokens,
                )
                if same and limits:
                    return old, False
                old.effective_to = now
            starts = now if old is None else max(now, old.effective_from + timedelta(microseconds=1))
            row = ModelPrice(
                id=uuid.uuid4(),
                workspace_id=workspace_id,
                effective_from=starts,
                is_free=price.input_per_1m == 0 and price.output_per_1m == 0,
                **_columns(replace(price, source=MANUAL)),
            )
            session.add(row)
            session.flush()
            return row, True


def _columns(price: PriceRow) -> dict[str, Any]:
    names = [n for n in PriceRow.__dataclass_fields__ if n not in ("id", "effective_from")]
    return {name: getattr(price, name) for name in names}
