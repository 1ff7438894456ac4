"""model_prices: cache-write rates above the long-context tier

Revision ID: 0201
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tollgate.db.types

revision = "0201"
down_revision = "0001"
branch_labels = None
depends_on = None

_COLUMNS = ("cache_write_above_tier_per_1m", "cache_write_1h_above_tier_per_1m")


def upgrade() -> None:
    with op.batch_alter_table("model_prices") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, tollgate.db.types.ScaledDecimal(scale=9, precision=24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_prices") as batch:
        for name in _COLUMNS:
            batch.drop_column(name)
