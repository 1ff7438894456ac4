"""Workspace price overrides, period-keyed alert cooldowns, canonical key-scoped budget values

* ``model_prices.workspace_id`` (nullable): a manual override written by a workspace admin applies
  to that workspace only; NULL rows are global (feeds and root's overrides). Uniqueness becomes two
  partial unique indexes, one for global rows and one per workspace.
* ``alert_cooldowns`` gains ``period_start`` in its primary key, so a new period's alert is never
  held by the previous period's delivery. Cooldown rows are transient bookkeeping: the table is
  recreated empty.
* Key-scoped budgets store their key id in canonical lower-case form (an upper-case id never
  matched a request).

Revision ID: 0604
Revises: 0501
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tollgate.db.types

revision = "0604"
down_revision = "0603"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_prices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("workspace_id", sa.Uuid(), nullable=True))
        batch_op.drop_constraint("uq_model_prices_provider_model_source_effective_from", type_="unique")
        batch_op.create_index(
            "uq_model_prices_global_version",
            ["provider", "model", "source", "effective_from"],
            unique=True,
            sqlite_where=sa.text("workspace_id IS NULL"),
            postgresql_where=sa.text("workspace_id IS NULL"),
        )
        batch_op.create_index(
            "uq_model_prices_workspace_version",
            ["workspace_id", "provider", "model", "source", "effective_from"],
            unique=True,
            sqlite_where=sa.text("workspace_id IS NOT NULL"),
            postgresql_where=sa.text("workspace_id IS NOT NULL"),
        )

    op.drop_table("alert_cooldowns")
    op.create_table(
        "alert_cooldowns",
        sa.Column("channel_id", sa.Uuid(), nullable=False),
        sa.Column("budget_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("threshold", sa.String(length=16), nullable=False),
        sa.Column("alert_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["alert_channels.id"], name=op.f("fk_alert_cooldowns_channel_id_alert_channels")
        ),
        sa.ForeignKeyConstraint(["budget_id"], ["budgets.id"], name=op.f("fk_alert_cooldowns_budget_id_budgets")),
        sa.PrimaryKeyConstraint(
            "channel_id", "budget_id", "period_start", "threshold", name=op.f("pk_alert_cooldowns")
        ),
    )

    op.execute(sa.text("UPDATE budgets SET scope_value = lower(trim(scope_value)) WHERE scope = 'key'"))


def downgrade() -> None:
    op.drop_table("alert_cooldowns")
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
    op.execute(sa.text("DELETE FROM model_prices WHERE workspace_id IS NOT NULL"))
    with op.batch_alter_table("model_prices", schema=None) as batch_op:
        batch_op.drop_index("uq_model_prices_workspace_version")
        batch_op.drop_index("uq_model_prices_global_version")
        batch_op.create_unique_constraint(
            "uq_model_prices_provider_model_source_effective_from", ["provider", "model", "source", "effective_from"]
        )
        batch_op.drop_column("workspace_id")
