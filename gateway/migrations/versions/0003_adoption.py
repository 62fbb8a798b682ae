"""adoption: the app's events (monthly partitions on PostgreSQL), exactly-once ids, rollups

Row-level security as in 0001 on every adoption table. Province-level reads are an explicit
path: a second, read-only policy ``province_read`` admits a tenant's rows when the transaction
has set ``app.province_id`` to that tenant's province (``adoption.scope``); it is also
added to ``members`` so that a province read can count each tenant's members.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 12:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')"
QUOTED_PREDICATE = TENANT_PREDICATE.replace("'", "''")  # inside a plpgsql string literal
PROVINCE_PREDICATE = (
    "tenant_id IN (SELECT id FROM tenants "
    "WHERE province_id = NULLIF(current_setting('app.province_id', true), ''))"
)
ROLLUPS = (
    "adoption_daily",
    "adoption_monthly",
    "adoption_member_days",
    "adoption_member_months",
    "adoption_activations",
    "adoption_installs",
)
TENANT_OWNED = ("adoption_event_ids", "adoption_events", *ROLLUPS)
PROVINCE_READ = (*ROLLUPS, "members")

EVENTS_COLUMNS = """
    tenant_id VARCHAR(63) NOT NULL,
    occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
    event_id UUID NOT NULL,
    type VARCHAR(32) NOT NULL,
    member_id UUID,
    device_id VARCHAR(128) NOT NULL,
    install_token VARCHAR(256),
    screen VARCHAR(64),
    received_at TIMESTAMP WITH TIME ZONE NOT NULL,
    CONSTRAINT pk_adoption_events PRIMARY KEY (tenant_id, occurred_at, event_id)
"""

# Creates the missing monthly partitions (UTC months) from ``first`` to ``last``; owned by the
# migration's role (SECURITY DEFINER) because the application's role may not create tables.
# Each partition gets the parent's policy too, so reading a partition directly stays isolated.
ENSURE_PARTITIONS = f"""
CREATE FUNCTION adoption_ensure_partitions(first date, last date) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    month date := date_trunc('month', first)::date;
    name text;
    created integer := 0;
BEGIN
    WHILE month <= last LOOP
        name := 'adoption_events_' || to_char(month, 'YYYY_MM');
        IF to_regclass(name) IS NULL THEN
            BEGIN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF adoption_events FOR VALUES FROM (%L) TO (%L)',
                    name, month::timestamp AT TIME ZONE 'UTC',
                    (month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
                EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
                EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', name);
                EXECUTE format(
                    'CREATE POLICY tenant_isolation ON %I USING ({QUOTED_PREDICATE}) '
                    'WITH CHECK ({QUOTED_PREDICATE})', name);
                created := created + 1;
            EXCEPTION WHEN duplicate_table THEN
                NULL;  -- another transaction created it first
            END;
        END IF;
        month := (month + interval '1 month')::date;
    END LOOP;
    RETURN created;
END;
$$
"""


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _create_events() -> None:
    if _is_postgres():
        op.execute(
            f"CREATE TABLE adoption_events ({EVENTS_COLUMNS}) PARTITION BY RANGE (occurred_at)"
        )
        op.execute(ENSURE_PARTITIONS)
        op.execute(
            "SELECT adoption_ensure_partitions((now() - interval '3 months')::date, "
            "(now() + interval '3 months')::date)"
        )
    else:
        op.create_table(
            "adoption_events",
            sa.Column("tenant_id", sa.String(length=63), nullable=False),
            sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("event_id", sa.Uuid(), nullable=False),
            sa.Column("type", sa.String(length=32), nullable=False),
            sa.Column("member_id", sa.Uuid(), nullable=True),
            sa.Column("device_id", sa.String(length=128), nullable=False),
            sa.Column("install_token", sa.String(length=256), nullable=True),
            sa.Column("screen", sa.String(length=64), nullable=True),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint(
                "tenant_id", "occurred_at", "event_id", name="pk_adoption_events"
            ),
        )
    op.create_index(
        "ix_adoption_events_tenant_occurred", "adoption_events", ["tenant_id", "occurred_at"]
    )


def _tenant_date_table(name: str, key: str, *columns: sa.schema.SchemaItem) -> None:
    op.create_table(
        name,
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column(key, sa.Date(), nullable=False),
        *columns,
    )


def upgrade() -> None:
    op.create_table(
        "adoption_event_ids",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "event_id", name=op.f("pk_adoption_event_ids")),
    )
    _create_events()
    for name, key in (("adoption_daily", "day"), ("adoption_monthly", "month")):
        _tenant_date_table(
            name,
            key,
            sa.Column("active_members", sa.Integer(), nullable=False),
            sa.Column("sessions", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("tenant_id", key, name=op.f(f"pk_{name}")),
        )
    _tenant_date_table(
        "adoption_member_days",
        "day",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "day", "member_id", name="pk_adoption_member_days"),
    )
    op.create_index(
        "ix_adoption_member_days_week", "adoption_member_days", ["tenant_id", "week", "member_id"]
    )
    _tenant_date_table(
        "adoption_member_months",
        "month",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint(
            "tenant_id", "month", "member_id", name="pk_adoption_member_months"
        ),
    )
    op.create_table(
        "adoption_activations",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("activated_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name="pk_adoption_activations"),
    )
    op.create_index(
        "ix_adoption_activations_day", "adoption_activations", ["tenant_id", "activated_on"]
    )
    op.create_table(
        "adoption_installs",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("device_id", sa.String(length=128), nullable=False),
        sa.Column("installed_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "device_id", name="pk_adoption_installs"),
    )
    op.create_index("ix_adoption_installs_day", "adoption_installs", ["tenant_id", "installed_on"])
    _enable_row_level_security()


def _enable_row_level_security() -> None:
    if not _is_postgres():
        return
    for table in TENANT_OWNED:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
        )
    for table in PROVINCE_READ:
        op.execute(
            f"CREATE POLICY province_read ON {table} FOR SELECT USING ({PROVINCE_PREDICATE})"
        )


def downgrade() -> None:
    if _is_postgres():
        for table in PROVINCE_READ:
            op.execute(f"DROP POLICY IF EXISTS province_read ON {table}")
    for table in reversed(TENANT_OWNED):
        op.drop_table(table)
    if _is_postgres():
        op.execute("DROP FUNCTION IF EXISTS adoption_ensure_partitions(date, date)")
