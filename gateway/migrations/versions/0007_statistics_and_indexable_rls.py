"""statistics and indexable row-level security: retention's index, sargable read policies, ANALYZE

- ``ix_adoption_member_months_member`` (tenant_id, member_id, month): retention joins a cohort's
  activations to their member-months by (tenant, member) within a range of months; without it
  the join scans every member-month of the tenant for each activation.
- PostgreSQL: the tables read by a province (``members``, the adoption rollups and
  ``adoption_member_counts``) had ``tenant_isolation`` (own tenant, every command) OR
  ``province_read`` (``tenant_id IN (SELECT … tenants …)``, SELECT). The OR with a subquery is
  not sargable: a query relying on RLS alone scanned every tenant's rows. Reads now go through
  one policy ``tenant_read``: ``tenant_id = ANY (app_readable_tenants())``, a STABLE function
  returning the transaction's own tenant and its province's tenants, which the planner uses
  as an index condition on ``tenant_id``. Writes keep the own-tenant predicate, in one policy
  per command (``tenant_insert``, ``tenant_update``, ``tenant_delete``). What a transaction may
  read or write is unchanged: for SELECT the same union of rows; for writes the own tenant
  (the read policy, ANDed by PostgreSQL to an UPDATE/DELETE that reads, admits it too).
- PostgreSQL: ``app_analyze(text[])`` (SECURITY DEFINER, owned by the migrating role) runs
  ``ANALYZE`` on the named tables of the public schema, so that bulk paths run as the
  application's role (which owns nothing) can refresh the planner's statistics. Not executable
  by PUBLIC; ``gateway.roles.create_app_role`` grants it to the application's role.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')"
PROVINCE_PREDICATE = (
    "tenant_id IN (SELECT id FROM tenants "
    "WHERE province_id = NULLIF(current_setting('app.province_id', true), ''))"
)
READ_PREDICATE = "tenant_id = ANY (app_readable_tenants())"
PROVINCE_READ = (
    "adoption_daily",
    "adoption_monthly",
    "adoption_member_days",
    "adoption_member_months",
    "adoption_activations",
    "adoption_installs",
    "members",
    "adoption_member_counts",
)

# Not SECURITY DEFINER: it reads ``tenants`` with the caller's rights, as the old subquery did.
READABLE_TENANTS = """
CREATE FUNCTION app_readable_tenants() RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT ARRAY(
        SELECT own FROM (SELECT NULLIF(current_setting('app.tenant_id', true), '') AS own) s
        WHERE own IS NOT NULL
        UNION
        SELECT id FROM public.tenants
        WHERE province_id = NULLIF(current_setting('app.province_id', true), '')
    )
$$
"""
ANALYZE_FUNCTION = """
CREATE FUNCTION app_analyze(tables text[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    name text;
    analyzed integer := 0;
BEGIN
    FOREACH name IN ARRAY tables LOOP
        IF to_regclass('public.' || quote_ident(name)) IS NULL THEN
            RAISE EXCEPTION 'no table %', name USING ERRCODE = 'undefined_table';
        END IF;
        EXECUTE format('ANALYZE public.%I', name);
        analyzed := analyzed + 1;
    END LOOP;
    RETURN analyzed;
END;
$$
"""


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_index(
        "ix_adoption_member_months_member",
        "adoption_member_months",
        ["tenant_id", "member_id", "month"],
    )
    if not _is_postgres():
        return
    op.execute(READABLE_TENANTS)
    for table in PROVINCE_READ:
        op.execute(f"DROP POLICY province_read ON {table}")
        op.execute(f"DROP POLICY tenant_isolation ON {table}")
        op.execute(f"CREATE POLICY tenant_read ON {table} FOR SELECT USING ({READ_PREDICATE})")
        op.execute(
            f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK ({TENANT_PREDICATE})"
        )
        op.execute(
            f"CREATE POLICY tenant_update ON {table} FOR UPDATE "
            f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
        )
        op.execute(f"CREATE POLICY tenant_delete ON {table} FOR DELETE USING ({TENANT_PREDICATE})")
    op.execute(ANALYZE_FUNCTION)
    op.execute("REVOKE EXECUTE ON FUNCTION app_analyze(text[]) FROM PUBLIC")


def downgrade() -> None:
    if _is_postgres():
        op.execute("DROP FUNCTION app_analyze(text[])")
        for table in PROVINCE_READ:
            for policy in ("tenant_read", "tenant_insert", "tenant_update", "tenant_delete"):
                op.execute(f"DROP POLICY {policy} ON {table}")
            op.execute(
                f"CREATE POLICY tenant_isolation ON {table} "
                f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
            )
            op.execute(
                f"CREATE POLICY province_read ON {table} FOR SELECT USING ({PROVINCE_PREDICATE})"
            )
        op.execute("DROP FUNCTION app_readable_tenants()")
    op.drop_index("ix_adoption_member_months_member", table_name="adoption_member_months")
