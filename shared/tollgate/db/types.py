"""Column types that behave the same on PostgreSQL and SQLite.

* ``Money``/``Price``: NUMERIC on PostgreSQL; on SQLite a scaled 64-bit integer, because SQLite's
  NUMERIC affinity silently turns values into binary floats. Sums stay exact on both engines.
* ``UtcDateTime``: timezone-aware UTC in, timezone-aware UTC out (SQLite stores it naive).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

from tollgate.clock import ensure_utc
from tollgate.money import MONEY_SCALE, PRICE_SCALE


class ScaledDecimal(TypeDecorator[Decimal]):
    impl = Numeric
    cache_ok = True

    def __init__(self, scale: int, precision: int = 30) -> None:
        super().__init__()
        self.scale = scale
        self.precision = precision
        self._factor = Decimal(10) ** scale

    def __repr__(self) -> str:
        return f"ScaledDecimal(scale={self.scale}, precision={self.precision})"

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
        if dialect.name == "sqlite":
            return int((amount * self._factor).to_integral_value())
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)) / self._factor
        return Decimal(value)


def Money() -> ScaledDecimal:  # noqa: N802 - reads like a type in column declarations
    return ScaledDecimal(MONEY_SCALE)


def Price() -> ScaledDecimal:  # noqa: N802
    return ScaledDecimal(PRICE_SCALE, precision=24)


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = ensure_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else ensure_utc(value)
