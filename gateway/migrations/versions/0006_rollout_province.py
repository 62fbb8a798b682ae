"""rollout by province: every rollout row belongs to a province; keys lead with it

Expand-style: ``province_id`` is added to flags, their rules, overrides and tenant rollouts,
plans and their waves, approvals and scheduled steps, and the audit (notices have one), then
backfilled, then made the leading key: ``handbook`` in one province and ``handbook`` in another
are two flags. Backfill: a plan → the province of its wave tenants; a flag → its plan's
province, else that of a tenant it has an override or rollout for, else the first province (by
id); a plan's waves, approvals and steps → the plan's; overrides and tenant rollouts → their
tenant's (a flag is copied, with its rules, into each further province they name); rules → their
flag's; audit rows → their tenant's, plan's or flag's province, else the first province.

PostgreSQL: ``adoption_ensure_partitions`` (SECURITY DEFINER) is no longer executable by PUBLIC;
the application's role is granted it by name (``gateway.roles.create_app_role``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:10:00
"""

# ruff: noqa: S608  (the SQL is built from this module's constants only)
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FLAG_CHILDREN = ("flag_rules", "flag_overrides", "flag_tenant_rollouts")
TENANT_ROWS = ("flag_overrides", "flag_tenant_rollouts")
PLAN_CHILDREN = (
    "rollout_waves",
    "rollout_wave_tenants",
    "rollout_approvals",
    "rollout_scheduled_steps",
)
TABLES = ("flags", *FLAG_CHILDREN, "rollout_plans", *PLAN_CHILDREN, "rollout_audit")
FIRST_PROVINCE = "(SELECT min(id) FROM provinces)"
OLD_PK = {
    "flags": ["key"],
    "flag_rules": ["flag_key", "position"],
    "flag_overrides": ["tenant_id", "flag_key"],
    "flag_tenant_rollouts": ["tenant_id", "flag_key"],
}
NEW_PK = {
    "flags": ["province_id", "key"],
    "flag_rules": ["province_id", "flag_key", "position"],
    "flag_overrides": ["province_id", "tenant_id", "flag_key"],
    "flag_tenant_rollouts": ["province_id", "tenant_id", "flag_key"],
}
PARTITIONS_FUNCTION = "adoption_ensure_partitions(date, date)"


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _backfill() -> None:
    op.execute(
        "UPDATE rollout_plans SET province_id = COALESCE((SELECT min(t.province_id) "
        "FROM rollout_wave_tenants w JOIN tenants t ON t.id = w.tenant_id "
        f"WHERE w.plan_id = rollout_plans.id), {FIRST_PROVINCE})"
    )
    for table in PLAN_CHILDREN:
        op.execute(
            f"UPDATE {table} SET province_id = (SELECT p.province_id FROM rollout_plans p "
            f"WHERE p.id = {table}.plan_id)"
        )
    tenant_provinces = " ".join(
        f", (SELECT min(t.province_id) FROM {table} x JOIN tenants t ON t.id = x.tenant_id "
        "WHERE x.flag_key = flags.key)"
        for table in TENANT_ROWS
    )
    op.execute(
        "UPDATE flags SET province_id = COALESCE((SELECT min(p.province_id) FROM rollout_plans p "
        f"WHERE p.flag_key = flags.key){tenant_provinces}, {FIRST_PROVINCE})"
    )
    op.execute(
        "UPDATE flag_rules SET province_id = (SELECT f.province_id FROM flags f "
        "WHERE f.key = flag_rules.flag_key)"
    )
    for table in TENANT_ROWS:
        op.execute(
            f"UPDATE {table} SET province_id = (SELECT t.province_id FROM tenants t "
            f"WHERE t.id = {table}.tenant_id)"
        )
    _backfill_audit()


def _backfill_audit() -> None:
    if _is_postgres():  # the audit is append-only for everyone but this one backfill
        op.execute("ALTER TABLE rollout_audit DISABLE TRIGGER rollout_audit_append_only")
    op.execute(
        "UPDATE rollout_audit SET province_id = COALESCE("
        "(SELECT t.province_id FROM tenants t WHERE t.id = rollout_audit.tenant_id), "
        "(SELECT p.province_id FROM rollout_plans p WHERE p.id = rollout_audit.plan_id), "
        "(SELECT min(f.province_id) FROM flags f WHERE f.key = rollout_audit.flag_key), "
        f"{FIRST_PROVINCE})"
    )
    if _is_postgres():
        op.execute("ALTER TABLE rollout_audit ENABLE TRIGGER rollout_audit_append_only")


def _copy_flags_into_tenant_provinces() -> None:
    """Overrides and rollouts of tenants of another province than their flag's get a copy."""
    pairs = " UNION ".join(f"SELECT province_id, flag_key FROM {table}" for table in TENANT_ROWS)
    missing = (
        f"SELECT x.province_id, x.flag_key FROM ({pairs}) x WHERE NOT EXISTS "
        "(SELECT 1 FROM flags g WHERE g.province_id = x.province_id AND g.key = x.flag_key)"
    )
    op.execute("CREATE TEMPORARY TABLE rollout_province_copies AS " + missing)
    op.execute(
        "INSERT INTO flag_rules (province_id, flag_key, position, conditions, variant) "
        "SELECT c.province_id, r.flag_key, r.position, r.conditions, r.variant "
        "FROM rollout_province_copies c JOIN flag_rules r ON r.flag_key = c.flag_key"
    )
    op.execute(
        "INSERT INTO flags (province_id, key, description, kind, variants, default_variant, "
        "rollout_variant, state, version, updated_at) "
        "SELECT c.province_id, f.key, f.description, f.kind, f.variants, f.default_variant, "
        "f.rollout_variant, f.state, f.version, f.updated_at "
        "FROM rollout_province_copies c JOIN flags f ON f.key = c.flag_key"
    )
    op.execute("DROP TABLE rollout_province_copies")


def _province_fk(batch_op: object, table: str) -> None:
    batch_op.create_foreign_key(  # type: ignore[attr-defined]
        op.f(f"fk_{table}_province_id_provinces"), "provinces", ["province_id"], ["id"]
    )


def _flag_fk(batch_op: object, table: str) -> None:
    batch_op.create_foreign_key(  # type: ignore[attr-defined]
        op.f(f"fk_{table}_province_id_flags"),
        "flags",
        ["province_id", "flag_key"],
        ["province_id", "key"],
        ondelete="CASCADE",
    )


def _rekey() -> None:
    for table in (*FLAG_CHILDREN, "rollout_plans"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_flag_key_flags", type_="foreignkey")
    with op.batch_alter_table("flags") as batch_op:
        batch_op.alter_column("province_id", existing_type=sa.String(63), nullable=False)
        batch_op.drop_constraint("pk_flags", type_="primary")
        batch_op.create_primary_key("pk_flags", NEW_PK["flags"])
        _province_fk(batch_op, "flags")
    for table in FLAG_CHILDREN:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("province_id", existing_type=sa.String(63), nullable=False)
            batch_op.drop_constraint(f"pk_{table}", type_="primary")
            batch_op.create_primary_key(f"pk_{table}", NEW_PK[table])
    _copy_flags_into_tenant_provinces()
    for table in FLAG_CHILDREN:
        with op.batch_alter_table(table) as batch_op:
            _flag_fk(batch_op, table)
    with op.batch_alter_table("rollout_plans") as batch_op:
        batch_op.alter_column("province_id", existing_type=sa.String(63), nullable=False)
        batch_op.drop_constraint("uq_rollout_plans_flag_key", type_="unique")
        batch_op.create_unique_constraint(
            op.f("uq_rollout_plans_province_id"), ["province_id", "flag_key"]
        )
        _flag_fk(batch_op, "rollout_plans")
    for table in PLAN_CHILDREN:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("province_id", existing_type=sa.String(63), nullable=False)
            _province_fk(batch_op, table)
    with op.batch_alter_table("rollout_audit") as batch_op:
        batch_op.alter_column("province_id", existing_type=sa.String(63), nullable=False)
        batch_op.create_index("ix_rollout_audit_province_at", ["province_id", "at"])


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("province_id", sa.String(length=63), nullable=True))
    _backfill()
    _rekey()
    if _is_postgres():
        op.execute(f"REVOKE EXECUTE ON FUNCTION {PARTITIONS_FUNCTION} FROM PUBLIC")


def _keep_first_province() -> None:
    """Before the keys drop the province, keep each flag's and plan's first province only."""
    op.execute(
        "DELETE FROM rollout_plans WHERE province_id <> (SELECT min(p.province_id) "
        "FROM rollout_plans p WHERE p.flag_key = rollout_plans.flag_key)"
    )
    for table in PLAN_CHILDREN:
        op.execute(f"DELETE FROM {table} WHERE plan_id NOT IN (SELECT id FROM rollout_plans)")
    op.execute("DELETE FROM rollout_notices WHERE plan_id NOT IN (SELECT id FROM rollout_plans)")
    first_flag = "(SELECT min(f.province_id) FROM flags f WHERE f.key = {table}.{column})"
    for table in ("flag_rules", *TENANT_ROWS):
        op.execute(
            f"DELETE FROM {table} WHERE province_id <> "
            + first_flag.format(table=table, column="flag_key")
        )
    op.execute(
        "DELETE FROM flags WHERE province_id <> " + first_flag.format(table="flags", column="key")
    )


def downgrade() -> None:
    """Lossy: only the first province's configuration of each flag survives."""
    if _is_postgres():
        op.execute(f"GRANT EXECUTE ON FUNCTION {PARTITIONS_FUNCTION} TO PUBLIC")
    _keep_first_province()
    with op.batch_alter_table("rollout_audit") as batch_op:
        batch_op.drop_index("ix_rollout_audit_province_at")
    for table in PLAN_CHILDREN:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_province_id_provinces", type_="foreignkey")
    with op.batch_alter_table("rollout_plans") as batch_op:
        batch_op.drop_constraint("fk_rollout_plans_province_id_flags", type_="foreignkey")
        batch_op.drop_constraint("uq_rollout_plans_province_id", type_="unique")
        batch_op.create_unique_constraint("uq_rollout_plans_flag_key", ["flag_key"])
    for table in FLAG_CHILDREN:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_province_id_flags", type_="foreignkey")
            batch_op.drop_constraint(f"pk_{table}", type_="primary")
            batch_op.create_primary_key(f"pk_{table}", OLD_PK[table])
    with op.batch_alter_table("flags") as batch_op:
        batch_op.drop_constraint("fk_flags_province_id_provinces", type_="foreignkey")
        batch_op.drop_constraint("pk_flags", type_="primary")
        batch_op.create_primary_key("pk_flags", OLD_PK["flags"])
    for table in (*FLAG_CHILDREN, "rollout_plans"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_foreign_key(
                f"fk_{table}_flag_key_flags", "flags", ["flag_key"], ["key"], ondelete="CASCADE"
            )
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("province_id")
