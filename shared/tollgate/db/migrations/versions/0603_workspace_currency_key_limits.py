"""workspace display currency, fx rates, gateway key limits and their per-minute windows, credential health

Revision ID: 0603
Revises: 0501
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tollgate.db.types

revision = "0603"
down_revision = "0602"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("display_currency", sa.String(length=3), nullable=True))
    with op.batch_alter_table("gateway_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("allowed_models", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("rpm_limit", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("tpm_limit", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("max_cost_per_request_usd", tollgate.db.types.ScaledDecimal(scale=12), nullable=True)
        )
        batch_op.add_column(sa.Column("expires_at", tollgate.db.types.UtcDateTime(), nullable=True))
    with op.batch_alter_table("provider_credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("free", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("models", sa.JSON(), nullable=True))
    with op.batch_alter_table("credential_health", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_success_at", tollgate.db.types.UtcDateTime(), nullable=True))
        batch_op.add_column(sa.Column("failover_alerted_at", tollgate.db.types.UtcDateTime(), nullable=True))
    op.create_table(
        "fx_rates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate_per_usd", tollgate.db.types.ScaledDecimal(scale=9, precision=24), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("effective_from", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("effective_to", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.Column("created_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rates")),
        sa.UniqueConstraint("currency", "effective_from", name=op.f("uq_fx_rates_currency_effective_from")),
    )
    op.create_index("ix_fx_rates_currency_current", "fx_rates", ["currency", "effective_to"], unique=False)
    op.create_table(
        "key_rate_windows",
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("window_start", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["gateway_keys.id"],
            name=op.f("fk_key_rate_windows_key_id_gateway_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_key_rate_windows")),
    )


def downgrade() -> None:
    op.drop_table("key_rate_windows")
    op.drop_index("ix_fx_rates_currency_current", table_name="fx_rates")
    op.drop_table("fx_rates")
    with op.batch_alter_table("provider_credentials", schema=None) as batch_op:
        batch_op.drop_column("models")
        batch_op.drop_column("free")
    with op.batch_alter_table("credential_health", schema=None) as batch_op:
        batch_op.drop_column("failover_alerted_at")
        batch_op.drop_column("last_success_at")
    with op.batch_alter_table("gateway_keys", schema=None) as batch_op:
        for name in ("expires_at", "max_cost_per_request_usd", "tpm_limit", "rpm_limit", "allowed_models"):
            batch_op.drop_column(name)
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.drop_column("display_currency")
