"""budget alerts: outbox marker on alerts_sent, per-channel cooldowns

Revision ID: 0401
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tollgate.db.types

revision = "0401"
down_revision = "0201"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts_sent", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enqueued_at", tollgate.db.types.UtcDateTime(), nullable=True))
        batch_op.create_index("ix_alerts_sent_unenqueued", ["enqueued_at", "created_at"], unique=False)
    op.create_table(
        "alert_cooldowns",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("budget_id", sa.Uuid(), nullable=False),
        sa.Column("threshold", sa.String(length=16), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["alert_channels.id"], name=op.f("fk_alert_cooldowns_channel_id_alert_channels")
        ),
        sa.ForeignKeyConstraint(["budget_id"], ["budgets.id"], name=op.f("fk_alert_cooldowns_budget_id_budgets")),
        sa.PrimaryKeyConstraint("channel_id", "budget_id", "threshold", name=op.f("pk_alert_cooldowns")),
    )


def downgrade() -> None:
    op.drop_table("alert_cooldowns")
    with op.batch_alter_table("alerts_sent", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_sent_unenqueued")
        batch_op.drop_column("enqueued_at")
