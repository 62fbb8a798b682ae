"""guardrail: a plan's drop threshold, and notices to the province admins

``rollout_plans.guardrail_drop`` (nullable: the deployment's default) and ``rollout_notices``.
Both are province-level rollout rows, like 0002's: no row-level security.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rollout_plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("guardrail_drop", sa.Float(), nullable=True))
    op.create_table(
        "rollout_notices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("province_id", sa.String(length=63), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("flag_key", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["rollout_plans.id"],
            name=op.f("fk_rollout_notices_plan_id_rollout_plans"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["province_id"],
            ["provinces.id"],
            name=op.f("fk_rollout_notices_province_id_provinces"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_notices")),
    )
    with op.batch_alter_table("rollout_notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rollout_notices_province_created", ["province_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_rollout_notices_plan_wave", ["plan_id", "wave", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rollout_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_rollout_notices_plan_wave")
        batch_op.drop_index("ix_rollout_notices_province_created")
    op.drop_table("rollout_notices")
    with op.batch_alter_table("rollout_plans", schema=None) as batch_op:
        batch_op.drop_column("guardrail_drop")
