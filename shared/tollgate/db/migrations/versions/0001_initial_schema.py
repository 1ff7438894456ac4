"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 19:26:43.549976
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tollgate.db.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_prices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("input_per_1m", tollgate.db.types.ScaledDecimal(scale=9, precision=24), nullable=False),
        sa.Column("output_per_1m", tollgate.db.types.ScaledDecimal(scale=9, precision=24), nullable=False),
        sa.Column("cache_read_per_1m", tollgate.db.types.ScaledDecimal(scale=9, precision=24), nullable=True),
        sa.Column("cache_write_per_1m", tollgate.db.types.ScaledDecimal(scale=9, precision=24), nullable=True),
        sa.Column("cache_write_1h_per_1m", tollgate.db.types.ScaledDecimal(scale=9, precision=24), nullable=True),
        sa.Column("reasoning_per_1m", tollgate.db.types.ScaledDecimal(scale=9, precision=24), nullable=True),
        sa.Column("tier_threshold_tokens", sa.Integer(), nullable=True),
        sa.Column("input_above_tier_per_1m", tollgate.db.types.ScaledDecimal(scale=9, precision=24), nullable=True),
        sa.Column("output_above_tier_per_1m", tollgate.db.types.ScaledDecimal(scale=9, precision=24), nullable=True),
        sa.Column(
            "cache_read_above_tier_per_1m", tollgate.db.types.ScaledDecimal(scale=9, precision=24), nullable=True
        ),
        sa.Column("max_output_tokens", sa.Integer(), nullable=True),
        sa.Column("max_input_tokens", sa.Integer(), nullable=True),
        sa.Column("is_free", sa.Boolean(), nullable=False),
        sa.Column("effective_from", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("effective_to", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.Column("created_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_prices")),
        sa.UniqueConstraint(
            "provider",
            "model",
            "source",
            "effective_from",
            name=op.f("uq_model_prices_provider_model_source_effective_from"),
        ),
    )
    with op.batch_alter_table("model_prices", schema=None) as batch_op:
        batch_op.create_index("ix_model_prices_current", ["provider", "model", "effective_to"], unique=False)

    op.create_table(
        "pricing_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_attempt_at", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.Column("last_success_at", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("source_versions", sa.JSON(), nullable=False),
        sa.Column("model_count", sa.Integer(), nullable=False),
        sa.Column("rows_written", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pricing_status")),
    )
    op.create_table(
        "usage_daily",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("workflow", sa.String(length=200), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=36), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("successes", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.BigInteger(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_read_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_write_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reasoning_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", tollgate.db.types.ScaledDecimal(scale=12), nullable=False),
        sa.Column("latency_ms_sum", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "workspace_id", "day", "provider", "model", "workflow", "agent", "key_id", name=op.f("pk_usage_daily")
        ),
    )
    with op.batch_alter_table("usage_daily", schema=None) as batch_op:
        batch_op.create_index("ix_usage_daily_ws_day", ["workspace_id", "day"], unique=False)

    op.create_table(
        "usage_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.Uuid(), nullable=True),
        sa.Column("credential_id", sa.Uuid(), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("requested_model", sa.String(length=255), nullable=False),
        sa.Column("workflow", sa.String(length=200), nullable=True),
        sa.Column("agent", sa.String(length=200), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_type", sa.String(length=64), nullable=True),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_read_tokens", sa.Integer(), nullable=False),
        sa.Column("cache_write_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("reasoning_tokens", sa.Integer(), nullable=False),
        sa.Column("cost_usd", tollgate.db.types.ScaledDecimal(scale=12), nullable=False),
        sa.Column("price_id", sa.Uuid(), nullable=True),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("upstream_ms", sa.Integer(), nullable=True),
        sa.Column("stream", sa.Boolean(), nullable=False),
        sa.Column("fallback_from", sa.String(length=64), nullable=True),
        sa.Column("created_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
        sa.UniqueConstraint("request_id", name=op.f("uq_usage_records_request_id")),
    )
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.create_index("ix_usage_records_ws_agent", ["workspace_id", "agent", "created_at"], unique=False)
        batch_op.create_index("ix_usage_records_ws_created", ["workspace_id", "created_at", "id"], unique=False)
        batch_op.create_index("ix_usage_records_ws_key_created", ["workspace_id", "key_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_usage_records_ws_provider_model", ["workspace_id", "provider", "model", "created_at"], unique=False
        )
        batch_op.create_index("ix_usage_records_ws_workflow", ["workspace_id", "workflow", "created_at"], unique=False)

    op.create_table(
        "workspaces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("unpriced_policy", sa.String(length=20), nullable=False),
        sa.Column("store_prompts", sa.Boolean(), nullable=False),
        sa.Column("created_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
    )
    op.create_table(
        "alert_channels",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=1000), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("last_sent_at", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.Column("created_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("deleted_at", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_alert_channels_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_channels")),
    )
    op.create_table(
        "budgets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_value", sa.String(length=255), nullable=True),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("limit_usd", tollgate.db.types.ScaledDecimal(scale=12), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("downgrade_model", sa.String(length=255), nullable=True),
        sa.Column("channel_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("deleted_at", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"], name=op.f("fk_budgets_workspace_id_workspaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
    )
    with op.batch_alter_table("budgets", schema=None) as batch_op:
        batch_op.create_index("ix_budgets_workspace_active", ["workspace_id", "deleted_at"], unique=False)

    op.create_table(
        "gateway_keys",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=True),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("revoked_at", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.Column("last_used_at", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_gateway_keys_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_keys")),
        sa.UniqueConstraint("public_id", name=op.f("uq_gateway_keys_public_id")),
    )
    with op.batch_alter_table("gateway_keys", schema=None) as batch_op:
        batch_op.create_index("ix_gateway_keys_workspace", ["workspace_id", "created_at"], unique=False)

    op.create_table(
        "provider_credentials",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("default_model", sa.String(length=200), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("rpm_limit", sa.Integer(), nullable=True),
        sa.Column("key_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("key_hint", sa.String(length=32), nullable=True),
        sa.Column("created_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("rotated_at", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_provider_credentials_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_credentials")),
        sa.UniqueConstraint("workspace_id", "name", name=op.f("uq_provider_credentials_workspace_id_name")),
    )
    with op.batch_alter_table("provider_credentials", schema=None) as batch_op:
        batch_op.create_index(
            "uq_provider_credentials_one_primary",
            ["workspace_id"],
            unique=True,
            sqlite_where=sa.text("is_primary = 1"),
            postgresql_where=sa.text("is_primary"),
        )

    op.create_table(
        "alerts_sent",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("budget_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("threshold", sa.String(length=16), nullable=False),
        sa.Column("created_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["budget_id"], ["budgets.id"], name=op.f("fk_alerts_sent_budget_id_budgets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts_sent")),
        sa.UniqueConstraint(
            "budget_id", "period_start", "threshold", name=op.f("uq_alerts_sent_budget_id_period_start_threshold")
        ),
    )
    op.create_table(
        "budget_counters",
        sa.Column("budget_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("spent_usd", tollgate.db.types.ScaledDecimal(scale=12), nullable=False),
        sa.Column("reserved_usd", tollgate.db.types.ScaledDecimal(scale=12), nullable=False),
        sa.Column("updated_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["budget_id"], ["budgets.id"], name=op.f("fk_budget_counters_budget_id_budgets")),
        sa.PrimaryKeyConstraint("budget_id", "period_start", name=op.f("pk_budget_counters")),
    )
    op.create_table(
        "credential_health",
        sa.Column("credential_id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("cooldown_until", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_error_type", sa.String(length=64), nullable=True),
        sa.Column("last_failure_at", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.Column("rpm_window_start", tollgate.db.types.UtcDateTime(), nullable=True),
        sa.Column("rpm_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["credential_id"],
            ["provider_credentials.id"],
            name=op.f("fk_credential_health_credential_id_provider_credentials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("credential_id", name=op.f("pk_credential_health")),
    )
    op.create_table(
        "reservations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("budget_id", sa.Uuid(), nullable=False),
        sa.Column("period_start", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("amount_usd", tollgate.db.types.ScaledDecimal(scale=12), nullable=False),
        sa.Column("created_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("expires_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["budget_id"], ["budgets.id"], name=op.f("fk_reservations_budget_id_budgets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservations")),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index("ix_reservations_expires_at", ["expires_at"], unique=False)
        batch_op.create_index("ix_reservations_request", ["request_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_reservations_request")
        batch_op.drop_index("ix_reservations_expires_at")

    op.drop_table("reservations")
    op.drop_table("credential_health")
    op.drop_table("budget_counters")
    op.drop_table("alerts_sent")
    with op.batch_alter_table("provider_credentials", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_provider_credentials_one_primary",
            sqlite_where=sa.text("is_primary = 1"),
            postgresql_where=sa.text("is_primary"),
        )

    op.drop_table("provider_credentials")
    with op.batch_alter_table("gateway_keys", schema=None) as batch_op:
        batch_op.drop_index("ix_gateway_keys_workspace")

    op.drop_table("gateway_keys")
    with op.batch_alter_table("budgets", schema=None) as batch_op:
        batch_op.drop_index("ix_budgets_workspace_active")

    op.drop_table("budgets")
    op.drop_table("alert_channels")
    op.drop_table("workspaces")
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_records_ws_workflow")
        batch_op.drop_index("ix_usage_records_ws_provider_model")
        batch_op.drop_index("ix_usage_records_ws_key_created")
        batch_op.drop_index("ix_usage_records_ws_created")
        batch_op.drop_index("ix_usage_records_ws_agent")

    op.drop_table("usage_records")
    with op.batch_alter_table("usage_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_daily_ws_day")

    op.drop_table("usage_daily")
    op.drop_table("pricing_status")
    with op.batch_alter_table("model_prices", schema=None) as batch_op:
        batch_op.drop_index("ix_model_prices_current")

    op.drop_table("model_prices")
