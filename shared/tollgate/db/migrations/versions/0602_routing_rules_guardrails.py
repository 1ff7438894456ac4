"""routing rules, guardrail settings, security events; usage_records.routing_rule_id

Revision ID: 0602
Revises: 0501
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tollgate.db.types

revision = "0602"
down_revision = "0501"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("match", sa.JSON(), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("created_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_routing_rules_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rules")),
    )
    op.create_index("ix_routing_rules_ws_priority", "routing_rules", ["workspace_id", "priority"], unique=False)
    op.create_table(
        "guardrail_settings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("detectors", sa.JSON(), nullable=False),
        sa.Column("scan_responses", sa.Boolean(), nullable=False),
        sa.Column("updated_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspaces.id"], name=op.f("fk_guardrail_settings_workspace_id_workspaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guardrail_settings")),
        sa.UniqueConstraint("workspace_id", name=op.f("uq_guardrail_settings_workspace_id")),
    )
    op.create_table(
        "security_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("detector", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("message_index", sa.Integer(), nullable=False),
        sa.Column("created_at", tollgate.db.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
    )
    op.create_index(
        "ix_security_events_ws_created", "security_events", ["workspace_id", "created_at", "id"], unique=False
    )
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("routing_rule_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            "ix_usage_records_ws_rule", ["workspace_id", "routing_rule_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_index("ix_usage_records_ws_rule")
        batch_op.drop_column("routing_rule_id")
    op.drop_index("ix_security_events_ws_created", table_name="security_events")
    op.drop_table("security_events")
    op.drop_table("guardrail_settings")
    op.drop_index("ix_routing_rules_ws_priority", table_name="routing_rules")
    op.drop_table("routing_rules")
