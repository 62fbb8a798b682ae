"""member memberships: members over time, so members at a past date stay true

``member_memberships`` keeps each stay of a member in a tenant: the first day, the last day
(null while it lasts), how it began (``joined``, ``transferred_in``) and how it ended
(``transferred_out``, ``left``). ``adoption_member_counts`` becomes per-day deltas kept by
triggers on that history: +1 on a stay's first day, -1 on the day after its last, so the sum of
the rows up to a day is the tenant's members at that day, whatever happens later.

A new ``members`` row opens a ``joined`` stay from ``joined_on`` unless the writer already
recorded one (a transfer records ``transferred_in``); a corrected ``joined_on`` moves the first
``joined`` stay with it; deleting a member deletes its stays.
The member's ``status`` no longer moves counts.

Backfill: every current member has one open stay from ``joined_on``. A member already marked
``transferred`` gets no stay: its transfer date was never recorded, and any date chosen for it
would be a guess; so it stays uncounted at every date, exactly as before this migration, and no
figure already published changes (docs/KPIS.md). Moves from now on are recorded with their date.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 04:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')"
READ_PREDICATE = "tenant_id = ANY (app_readable_tenants())"
STAY_KEYS = "(tenant_id, member_id, started_on)"


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _delta(tenant: str, day: str, delta: str, where: str = "true") -> str:
    return (
        "INSERT INTO adoption_member_counts (tenant_id, joined_on, members) "
        f"SELECT {tenant}, {day}, {delta} WHERE {where} "
        "ON CONFLICT (tenant_id, joined_on) "
        f"DO UPDATE SET members = adoption_member_counts.members + ({delta})"
    )


def _stay(row: str, sign: int, next_day: str) -> list[str]:
    """The two deltas of one stay (the second only once it has ended)."""
    return [
        _delta(f"{row}.tenant_id", f"{row}.started_on", str(sign)),
        _delta(
            f"{row}.tenant_id", next_day.format(row=row), str(-sign), f"{row}.ended_on IS NOT NULL"
        ),
    ]


OPEN_STAY = (
    "INSERT INTO member_memberships (tenant_id, member_id, started_on, began) "
    "SELECT NEW.tenant_id, NEW.id, NEW.joined_on, 'joined' WHERE NOT EXISTS "
    "(SELECT 1 FROM member_memberships m WHERE m.tenant_id = NEW.tenant_id "
    "AND m.member_id = NEW.id)"
)
MOVE_FIRST_STAY = (
    "UPDATE member_memberships SET started_on = NEW.joined_on "
    "WHERE tenant_id = NEW.tenant_id AND member_id = NEW.id "
    "AND started_on = OLD.joined_on AND began = 'joined'"
)
DROP_STAYS = "DELETE FROM member_memberships WHERE tenant_id = OLD.tenant_id AND member_id = OLD.id"


def _postgres_triggers() -> None:
    after = "({row}.ended_on + 1)"
    body = ";\n        ".join
    op.execute(f"""
CREATE FUNCTION member_memberships_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {body(_stay("OLD", -1, after))};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {body(_stay("NEW", 1, after))};
    END IF;
    RETURN NULL;
END;
$$""")
    op.execute(
        "CREATE TRIGGER member_memberships_count AFTER INSERT OR UPDATE OR DELETE "
        "ON member_memberships FOR EACH ROW EXECUTE FUNCTION member_memberships_count()"
    )
    op.execute(f"""
CREATE FUNCTION members_stays() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {OPEN_STAY};
    ELSIF TG_OP = 'UPDATE' THEN
        {MOVE_FIRST_STAY};
    ELSE
        {DROP_STAYS};
    END IF;
    RETURN NULL;
END;
$$""")
    op.execute(
        "CREATE TRIGGER members_stays AFTER INSERT OR UPDATE OF joined_on OR DELETE ON members "
        "FOR EACH ROW EXECUTE FUNCTION members_stays()"
    )


def _sqlite_triggers() -> None:
    after = "date({row}.ended_on, '+1 day')"
    added, removed = "; ".join(_stay("NEW", 1, after)), "; ".join(_stay("OLD", -1, after))
    table = "member_memberships"
    op.execute(f"CREATE TRIGGER {table}_counted AFTER INSERT ON {table} BEGIN {added}; END")
    op.execute(
        f"CREATE TRIGGER {table}_moved AFTER UPDATE ON {table} BEGIN {removed}; {added}; END"
    )
    op.execute(f"CREATE TRIGGER {table}_uncounted AFTER DELETE ON {table} BEGIN {removed}; END")
    op.execute(f"CREATE TRIGGER members_stay_opened AFTER INSERT ON members BEGIN {OPEN_STAY}; END")
    op.execute(
        "CREATE TRIGGER members_first_stay_moved AFTER UPDATE OF joined_on ON members "
        f"WHEN OLD.joined_on <> NEW.joined_on BEGIN {MOVE_FIRST_STAY}; END"
    )
    op.execute(
        f"CREATE TRIGGER members_stays_dropped AFTER DELETE ON members BEGIN {DROP_STAYS}; END"
    )


def _drop_member_count_triggers() -> None:
    if _is_postgres():
        op.execute("DROP TRIGGER IF EXISTS members_count ON members")
        op.execute("DROP FUNCTION IF EXISTS members_count()")
        return
    for name in ("counted", "left", "entered", "uncounted"):
        op.execute(f"DROP TRIGGER IF EXISTS members_{name}")


def _backfill() -> None:
    op.execute(
        "INSERT INTO member_memberships (tenant_id, member_id, started_on, began) "
        "SELECT tenant_id, id, joined_on, 'joined' FROM members WHERE status <> 'transferred'"
    )
    op.execute("DELETE FROM adoption_member_counts")
    op.execute(
        "INSERT INTO adoption_member_counts (tenant_id, joined_on, members) "
        "SELECT tenant_id, started_on, count(*) FROM member_memberships "
        "GROUP BY tenant_id, started_on"
    )


def _rls() -> None:
    table = "member_memberships"
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_read ON {table} FOR SELECT USING ({READ_PREDICATE})")
    op.execute(f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK ({TENANT_PREDICATE})")
    op.execute(
        f"CREATE POLICY tenant_update ON {table} FOR UPDATE "
        f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
    )
    op.execute(f"CREATE POLICY tenant_delete ON {table} FOR DELETE USING ({TENANT_PREDICATE})")


def upgrade() -> None:
    op.create_table(
        "member_memberships",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("began", sa.String(length=20), nullable=False),
        sa.Column("ended", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint(
            "tenant_id", "member_id", "started_on", name="pk_member_memberships"
        ),
        sa.CheckConstraint(
            "ended_on IS NULL OR ended_on >= started_on", name="ck_member_memberships_order"
        ),
        sa.CheckConstraint(
            "(ended_on IS NULL) = (ended IS NULL)", name="ck_member_memberships_end"
        ),
    )
    if _is_postgres():
        _rls()
    _drop_member_count_triggers()
    _backfill()
    if _is_postgres():
        _postgres_triggers()
    else:
        _sqlite_triggers()


def _counting_by_status() -> None:
    """0004's triggers on ``members``: current, not transferred members by ``joined_on``."""
    up = (
        "INSERT INTO adoption_member_counts (tenant_id, joined_on, members) "
        "VALUES ({r}.tenant_id, {r}.joined_on, 1) ON CONFLICT (tenant_id, joined_on) "
        "DO UPDATE SET members = adoption_member_counts.members + 1"
    )
    down = (
        "UPDATE adoption_member_counts SET members = members - 1 "
        "WHERE tenant_id = {r}.tenant_id AND joined_on = {r}.joined_on"
    )
    counted, on = "<> 'transferred'", "UPDATE OF tenant_id, joined_on, status ON members"
    if _is_postgres():
        op.execute(f"""
CREATE FUNCTION members_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status {counted} THEN {down.format(r="OLD")}; END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status {counted} THEN {up.format(r="NEW")}; END IF;
    RETURN NULL;
END;
$$""")
        op.execute(
            "CREATE TRIGGER members_count AFTER INSERT OR UPDATE OF tenant_id, joined_on, status "
            "OR DELETE ON members FOR EACH ROW EXECUTE FUNCTION members_count()"
        )
        return
    for name, event, row, statement in (
        ("counted", "INSERT ON members", "NEW", up),
        ("left", on, "OLD", down),
        ("entered", on, "NEW", up),
        ("uncounted", "DELETE ON members", "OLD", down),
    ):
        op.execute(
            f"CREATE TRIGGER members_{name} AFTER {event} WHEN {row}.status {counted} "
            f"BEGIN {statement.format(r=row)}; END"
        )


def downgrade() -> None:
    if _is_postgres():
        op.execute("DROP TRIGGER IF EXISTS members_stays ON members")
        op.execute("DROP FUNCTION IF EXISTS members_stays()")
    else:
        for name in ("members_stay_opened", "members_first_stay_moved", "members_stays_dropped"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_table("member_memberships")
    if _is_postgres():
        op.execute("DROP FUNCTION IF EXISTS member_memberships_count()")
    op.execute("DELETE FROM adoption_member_counts")
    op.execute(
        "INSERT INTO adoption_member_counts (tenant_id, joined_on, members) "
        "SELECT tenant_id, joined_on, count(*) FROM members "
        "WHERE status <> 'transferred' GROUP BY tenant_id, joined_on"
    )
    _counting_by_status()
