"""usage_daily latency histogram (p50/p95 from the rollup)

Revision ID: 0501
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0501"
down_revision = "0401"
branch_labels = None
depends_on = None

# Frozen copy of tollgate.usage.latency.COLUMNS at this revision.
COLUMNS = [f"lat_{k:02d}" for k in range(60)]


def upgrade() -> None:
    with op.batch_alter_table("usage_daily", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("usage_daily", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
