"""event retention: raw events older than the configured age go, whole months at a time

- ``adoption_event_horizon``: one row, the instant before which raw events have been removed
  (``removed_before``) and when that was done. ``pilotgraph metrics rebuild`` never recomputes a
  month before it, so the rollups of removed months (every KPI of past months) stay.
- PostgreSQL: ``adoption_drop_partitions(cutoff, dry_run)`` lists, and unless ``dry_run`` drops,
  the monthly partitions of ``adoption_events`` that end at or before ``cutoff``. It is
  ``SECURITY DEFINER`` (the application's role owns no table and may not drop one) and not
  executable by PUBLIC; ``gateway.roles.create_app_role`` grants it by name.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 03:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

DROP_FUNCTION = "adoption_drop_partitions(timestamp with time zone, boolean)"

# Partitions are named adoption_events_YYYY_MM (UTC months, migration 0003); the bound is read
# from the catalogue rather than the name, so a partition made by hand is judged by what it holds.
DROP_PARTITIONS = """
CREATE FUNCTION adoption_drop_partitions(cutoff timestamptz, dry_run boolean)
RETURNS TABLE (partition text, upper_bound timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    child record;
BEGIN
    FOR child IN
        SELECT c.relname::text AS name,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid),
                             'TO \\(''([^'']+)''\\)'))[1]::timestamptz AS upper
        FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'adoption_events'::regclass
        ORDER BY 2
    LOOP
        IF child.upper IS NOT NULL AND child.upper <= cutoff THEN
            IF NOT dry_run THEN
                EXECUTE format('DROP TABLE %I', child.name);
            END IF;
            partition := child.name;
            upper_bound := child.upper;
            RETURN NEXT;
        END IF;
    END LOOP;
END;
$$
"""


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    op.create_table(
        "adoption_event_horizon",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("removed_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_adoption_event_horizon_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_adoption_event_horizon")),
    )
    if _is_postgres():
        op.execute(DROP_PARTITIONS)
        op.execute(f"REVOKE EXECUTE ON FUNCTION {DROP_FUNCTION} FROM PUBLIC")


def downgrade() -> None:
    if _is_postgres():
        op.execute(f"DROP FUNCTION IF EXISTS {DROP_FUNCTION}")
    op.drop_table("adoption_event_horizon")
