"""rollout: flags, targeting, plans and waves, approvals, scheduled steps, audit

Province-level configuration: no row-level security. Rows about one tenant lead with
``tenant_id``. On PostgreSQL a trigger keeps the audit append-only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 12:01:43.206440
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY_FUNCTION = """
CREATE FUNCTION rollout_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rollout_audit is append-only';
END;
$$
"""


def _make_audit_append_only() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute(
        "CREATE TRIGGER rollout_audit_append_only BEFORE UPDATE OR DELETE ON rollout_audit "
        "FOR EACH ROW EXECUTE FUNCTION rollout_audit_append_only()"
    )


def _drop_audit_append_only() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS rollout_audit_append_only ON rollout_audit")
    op.execute("DROP FUNCTION IF EXISTS rollout_audit_append_only()")


def upgrade() -> None:
    op.create_table(
        "flags",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("variants", sa.JSON(), nullable=False),
        sa.Column("default_variant", sa.String(length=63), nullable=False),
        sa.Column("rollout_variant", sa.String(length=63), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_flags")),
    )
    op.create_table(
        "rollout_audit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("flag_key", sa.String(length=100), nullable=True),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.String(length=63), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_audit")),
    )
    with op.batch_alter_table("rollout_audit", schema=None) as batch_op:
        batch_op.create_index("ix_rollout_audit_actor_at", ["actor", "at"], unique=False)
        batch_op.create_index("ix_rollout_audit_flag_at", ["flag_key", "at"], unique=False)
        batch_op.create_index("ix_rollout_audit_tenant_at", ["tenant_id", "at"], unique=False)

    op.create_table(
        "flag_rules",
        sa.Column("flag_key", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("variant", sa.String(length=63), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_key"],
            ["flags.key"],
            name=op.f("fk_flag_rules_flag_key_flags"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("flag_key", "position", name=op.f("pk_flag_rules")),
    )
    op.create_table(
        "rollout_plans",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("flag_key", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("current_wave", sa.Integer(), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_key"],
            ["flags.key"],
            name=op.f("fk_rollout_plans_flag_key_flags"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_plans")),
        sa.UniqueConstraint("flag_key", name=op.f("uq_rollout_plans_flag_key")),
    )
    op.create_table(
        "flag_overrides",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("flag_key", sa.String(length=100), nullable=False),
        sa.Column("variant", sa.String(length=63), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_key"],
            ["flags.key"],
            name=op.f("fk_flag_overrides_flag_key_flags"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_flag_overrides_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "flag_key", name=op.f("pk_flag_overrides")),
    )
    op.create_table(
        "flag_tenant_rollouts",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("flag_key", sa.String(length=100), nullable=False),
        sa.Column("basis_points", sa.Integer(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["flag_key"],
            ["flags.key"],
            name=op.f("fk_flag_tenant_rollouts_flag_key_flags"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_flag_tenant_rollouts_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "flag_key", name=op.f("pk_flag_tenant_rollouts")),
    )
    op.create_table(
        "rollout_approvals",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["rollout_plans.id"],
            name=op.f("fk_rollout_approvals_plan_id_rollout_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_approvals")),
    )
    with op.batch_alter_table("rollout_approvals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rollout_approvals_plan_status", ["plan_id", "status"], unique=False
        )

    op.create_table(
        "rollout_scheduled_steps",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ran_by", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["rollout_plans.id"],
            name=op.f("fk_rollout_scheduled_steps_plan_id_rollout_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout_scheduled_steps")),
    )
    with op.batch_alter_table("rollout_scheduled_steps", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rollout_scheduled_steps_status_run_at", ["status", "run_at"], unique=False
        )

    op.create_table(
        "rollout_waves",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("ramp", sa.JSON(), nullable=False),
        sa.Column("earliest_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("gate_criteria", sa.JSON(), nullable=False),
        sa.Column("gate_sustain_days", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["rollout_plans.id"],
            name=op.f("fk_rollout_waves_plan_id_rollout_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "position", name=op.f("pk_rollout_waves")),
    )
    op.create_table(
        "rollout_wave_tenants",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id", "position"],
            ["rollout_waves.plan_id", "rollout_waves.position"],
            name=op.f("fk_rollout_wave_tenants_plan_id_rollout_waves"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_rollout_wave_tenants_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "plan_id", name=op.f("pk_rollout_wave_tenants")),
    )
    with op.batch_alter_table("rollout_wave_tenants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rollout_wave_tenants_plan_position", ["plan_id", "position"], unique=False
        )

    _make_audit_append_only()


def downgrade() -> None:
    _drop_audit_append_only()
    with op.batch_alter_table("rollout_wave_tenants", schema=None) as batch_op:
        batch_op.drop_index("ix_rollout_wave_tenants_plan_position")

    op.drop_table("rollout_wave_tenants")
    op.drop_table("rollout_waves")
    with op.batch_alter_table("rollout_scheduled_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_rollout_scheduled_steps_status_run_at")

    op.drop_table("rollout_scheduled_steps")
    with op.batch_alter_table("rollout_approvals", schema=None) as batch_op:
        batch_op.drop_index("ix_rollout_approvals_plan_status")

    op.drop_table("rollout_approvals")
    op.drop_table("flag_tenant_rollouts")
    op.drop_table("flag_overrides")
    op.drop_table("rollout_plans")
    op.drop_table("flag_rules")
    with op.batch_alter_table("rollout_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_rollout_audit_tenant_at")
        batch_op.drop_index("ix_rollout_audit_flag_at")
        batch_op.drop_index("ix_rollout_audit_actor_at")

    op.drop_table("rollout_audit")
    op.drop_table("flags")
