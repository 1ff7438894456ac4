"""reservations: upstream_started_at and what the sweeper needs to charge an interrupted call

Revision ID: 0605
Revises: 0501

A reservation whose upstream call started (``upstream_started_at`` set just before the provider
request goes out) is charged by the sweeper as an ``estimated`` usage row once it expires; only
reservations whose call never started are released. The usage row needs the call's attribution,
so the reservation row carries it (written by the same INSERT that creates the reservation).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tollgate.db.types import UtcDateTime

revision = "0605"
down_revision = "0604"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upstream_started_at", UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("provider", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("model", sa.String(255), nullable=True))
        batch_op.add_column(sa.Column("workflow", sa.String(200), nullable=True))
        batch_op.add_column(sa.Column("agent", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        for name in ("agent", "workflow", "model", "provider", "key_id", "upstream_started_at"):
            batch_op.drop_column(name)
