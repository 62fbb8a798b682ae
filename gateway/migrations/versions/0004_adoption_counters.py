"""adoption counters: new activations and installs per day, current members per join day

The dashboard reads day and month rows only. Three counters, kept by triggers in the same
transaction as the rows they count (so a concurrent or late change moves a count exactly once):

- ``adoption_daily.new_activations``: members whose first login is that local day
  (``adoption_activations``; a late, earlier login moves the member to the earlier day);
- ``adoption_daily.new_installs``: devices first installed that day (``adoption_installs``);
- ``adoption_member_counts``: a tenant's current (not transferred) members by ``joined_on``
  (``members``), so "members at a date" is a sum of a few rows.

Existing rows are counted once here. RLS as in 0003: tenant isolation plus the province read.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 14:40:00
"""

# ruff: noqa: S608  (the SQL is built from this module's constants only)

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')"
PROVINCE_PREDICATE = (
    "tenant_id IN (SELECT id FROM tenants "
    "WHERE province_id = NULLIF(current_setting('app.province_id', true), ''))"
)
COUNTED = "'transferred'"  # members with this status are no longer counted

# (table of first days, its date column, the adoption_daily column counting them)
FIRST_DAYS = (
    ("adoption_activations", "activated_on", "new_activations"),
    ("adoption_installs", "installed_on", "new_installs"),
)


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _daily_upsert(row: str, day_column: str, counter: str, delta: str) -> str:
    return (
        "INSERT INTO adoption_daily "
        "(tenant_id, day, active_members, sessions, new_activations, new_installs) "
        f"VALUES ({row}.tenant_id, {row}.{day_column}, 0, 0, "
        f"{delta if counter == 'new_activations' else 0}, "
        f"{delta if counter == 'new_installs' else 0}) "
        "ON CONFLICT (tenant_id, day) "
        f"DO UPDATE SET {counter} = adoption_daily.{counter} + {delta}"
    )


def _daily_decrement(row: str, day_column: str, counter: str) -> str:
    return (
        f"UPDATE adoption_daily SET {counter} = {counter} - 1 "
        f"WHERE tenant_id = {row}.tenant_id AND day = {row}.{day_column}"
    )


def _members_upsert(row: str) -> str:
    return (
        "INSERT INTO adoption_member_counts (tenant_id, joined_on, members) "
        f"VALUES ({row}.tenant_id, {row}.joined_on, 1) "
        "ON CONFLICT (tenant_id, joined_on) "
        "DO UPDATE SET members = adoption_member_counts.members + 1"
    )


def _members_decrement(row: str) -> str:
    return (
        "UPDATE adoption_member_counts SET members = members - 1 "
        f"WHERE tenant_id = {row}.tenant_id AND joined_on = {row}.joined_on"
    )


def _postgres_triggers() -> None:
    for table, day_column, counter in FIRST_DAYS:
        op.execute(f"""
CREATE FUNCTION {table}_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.{day_column} = NEW.{day_column} THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_daily_decrement("OLD", day_column, counter)};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {_daily_upsert("NEW", day_column, counter, "1")};
    END IF;
    RETURN NULL;
END;
$$""")
        op.execute(
            f"CREATE TRIGGER {table}_count AFTER INSERT OR UPDATE OF {day_column} OR DELETE "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_count()"
        )
    op.execute(f"""
CREATE FUNCTION members_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.tenant_id = NEW.tenant_id AND OLD.joined_on = NEW.joined_on
       AND (OLD.status = {COUNTED}) = (NEW.status = {COUNTED}) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> {COUNTED} THEN
        {_members_decrement("OLD")};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> {COUNTED} THEN
        {_members_upsert("NEW")};
    END IF;
    RETURN NULL;
END;
$$""")
    op.execute(
        "CREATE TRIGGER members_count AFTER INSERT OR UPDATE OF tenant_id, joined_on, status "
        "OR DELETE ON members FOR EACH ROW EXECUTE FUNCTION members_count()"
    )


def _sqlite_triggers() -> None:
    for table, day_column, counter in FIRST_DAYS:
        op.execute(
            f"CREATE TRIGGER {table}_counted AFTER INSERT ON {table} BEGIN "
            f"{_daily_upsert('NEW', day_column, counter, '1')}; END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_moved AFTER UPDATE OF {day_column} ON {table} "
            f"WHEN OLD.{day_column} <> NEW.{day_column} BEGIN "
            f"{_daily_decrement('OLD', day_column, counter)}; "
            f"{_daily_upsert('NEW', day_column, counter, '1')}; END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_uncounted AFTER DELETE ON {table} BEGIN "
            f"{_daily_decrement('OLD', day_column, counter)}; END"
        )
    op.execute(
        f"CREATE TRIGGER members_counted AFTER INSERT ON members "
        f"WHEN NEW.status <> {COUNTED} BEGIN {_members_upsert('NEW')}; END"
    )
    op.execute(
        f"CREATE TRIGGER members_left AFTER UPDATE OF tenant_id, joined_on, status ON members "
        f"WHEN OLD.status <> {COUNTED} BEGIN {_members_decrement('OLD')}; END"
    )
    op.execute(
        f"CREATE TRIGGER members_entered AFTER UPDATE OF tenant_id, joined_on, status ON members "
        f"WHEN NEW.status <> {COUNTED} BEGIN {_members_upsert('NEW')}; END"
    )
    op.execute(
        f"CREATE TRIGGER members_uncounted AFTER DELETE ON members "
        f"WHEN OLD.status <> {COUNTED} BEGIN {_members_decrement('OLD')}; END"
    )


def _backfill() -> None:
    for table, day_column, counter in FIRST_DAYS:
        op.execute(
            "INSERT INTO adoption_daily "
            "(tenant_id, day, active_members, sessions, new_activations, new_installs) "
            f"SELECT DISTINCT tenant_id, {day_column}, 0, 0, 0, 0 FROM {table} s "
            "WHERE NOT EXISTS (SELECT 1 FROM adoption_daily d "
            f"WHERE d.tenant_id = s.tenant_id AND d.day = s.{day_column})"
        )
        op.execute(
            f"UPDATE adoption_daily SET {counter} = (SELECT count(*) FROM {table} s "
            "WHERE s.tenant_id = adoption_daily.tenant_id "
            f"AND s.{day_column} = adoption_daily.day)"
        )
    op.execute(
        "INSERT INTO adoption_member_counts (tenant_id, joined_on, members) "
        "SELECT tenant_id, joined_on, count(*) FROM members "
        f"WHERE status <> {COUNTED} GROUP BY tenant_id, joined_on"
    )


def upgrade() -> None:
    for counter in ("new_activations", "new_installs"):
        op.add_column(
            "adoption_daily",
            sa.Column(counter, sa.Integer(), nullable=False, server_default=sa.text("0")),
        )
    op.create_table(
        "adoption_member_counts",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "joined_on", name="pk_adoption_member_counts"),
    )
    if _is_postgres():
        op.execute("ALTER TABLE adoption_member_counts ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE adoption_member_counts FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY tenant_isolation ON adoption_member_counts "
            f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
        )
        op.execute(
            "CREATE POLICY province_read ON adoption_member_counts FOR SELECT "
            f"USING ({PROVINCE_PREDICATE})"
        )
    _backfill()
    if _is_postgres():
        _postgres_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if _is_postgres():
        for table in ("adoption_activations", "adoption_installs", "members"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_count ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_count()")
    else:
        for table, _, _ in FIRST_DAYS:
            for suffix in ("counted", "moved", "uncounted"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_{suffix}")
        for name in ("counted", "left", "entered", "uncounted"):
            op.execute(f"DROP TRIGGER IF EXISTS members_{name}")
    op.drop_table("adoption_member_counts")
    with op.batch_alter_table("adoption_daily") as batch:
        batch.drop_column("new_installs")
        batch.drop_column("new_activations")
