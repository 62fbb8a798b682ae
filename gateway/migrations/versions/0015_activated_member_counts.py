"""activated member counts: activated members at a date from per-day deltas, kept by triggers

``adoption_activated_counts`` holds, per tenant and day, the change in activated members (members
whose first login in the tenant, ``adoption_activations``, is on or before the day, and whose
stay in ``member_memberships`` covers it): for each stay a member's first login meets, +1 on the
later of first login and stay start, and -1 on the day after the stay's last day. The sum of the
rows up to a day is the activated members at that day, as ``adoption_member_counts`` (migration
0013) is for members; so a leave, rejoin or transfer moves both counts from the same day, and
activated members never exceed members.

Triggers keep it in the writer's transaction: on ``member_memberships`` (a stay opened, ended,
moved, re-keyed or deleted: its contributions with the member's first login, if any, go and come)
and on ``adoption_activations`` (a first login recorded, moved earlier, re-keyed by an erasure or
deleted by a rebuild: its contributions with each of the member's stays go and come).

Backfill: every first login with its stays, as above. A first login whose member id has no stay
in its tenant (the pseudonym of a member erased before erasure re-keyed stays, or a member
marked ``transferred`` before 0013, who got no stay) counted before this revision from its day
on; it keeps that +1, so no figure already published changes (docs/KPIS.md). It meets no stay,
so the triggers never move it again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 07:10:00
"""

# ruff: noqa: S608  (the SQL is built from this module's constants only)

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLE = "adoption_activated_counts"
TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')"
READ_PREDICATE = "tenant_id = ANY (app_readable_tenants())"


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _dates() -> tuple[str, str]:
    """The dialect's (later of two dates, the day after a date) templates."""
    if _is_postgres():
        return "GREATEST({a}, {b})", "({a} + 1)"
    return "max({a}, {b})", "date({a}, '+1 day')"


def _contributions(stay: str, first: str, source: str, match: str, sign: int) -> list[str]:
    """The two deltas of stays ``stay`` met by first logins ``first`` (``source`` and ``match``
    bring the other side of the trigger's row), times ``sign``."""
    later, after = _dates()
    met = f"{match} AND ({stay}.ended_on IS NULL OR {first}.activated_on <= {stay}.ended_on)"
    ended = f"{match} AND {stay}.ended_on IS NOT NULL AND {first}.activated_on <= {stay}.ended_on"
    start = later.format(a=f"{first}.activated_on", b=f"{stay}.started_on")
    return [
        _upsert(f"SELECT {stay}.tenant_id, {start}, sum({sign}) FROM {source} WHERE {met}"),
        _upsert(
            f"SELECT {stay}.tenant_id, {after.format(a=f'{stay}.ended_on')}, sum({-sign}) "
            f"FROM {source} WHERE {ended}"
        ),
    ]


def _upsert(select: str) -> str:
    return (
        f"INSERT INTO {TABLE} (tenant_id, day, members) {select} GROUP BY 1, 2 "
        "ON CONFLICT (tenant_id, day) "
        f"DO UPDATE SET members = {TABLE}.members + excluded.members"
    )


def _of_stay(row: str, sign: int) -> list[str]:
    match = f"a.tenant_id = {row}.tenant_id AND a.member_id = {row}.member_id"
    return _contributions(row, "a", "adoption_activations a", match, sign)


def _of_first_login(row: str, sign: int) -> list[str]:
    match = f"s.tenant_id = {row}.tenant_id AND s.member_id = {row}.member_id"
    return _contributions("s", row, "member_memberships s", match, sign)


TRIGGERS = (  # (table, its statements for a row: removed, added)
    ("member_memberships", _of_stay),
    ("adoption_activations", _of_first_login),
)


def _postgres_triggers() -> None:
    body = ";\n        ".join
    for table, statements in TRIGGERS:
        op.execute(f"""
CREATE FUNCTION {table}_activated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {body(statements("OLD", -1))};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {body(statements("NEW", 1))};
    END IF;
    RETURN NULL;
END;
$$""")
        op.execute(
            f"CREATE TRIGGER {table}_activated AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_activated()"
        )


def _sqlite_triggers() -> None:
    for table, statements in TRIGGERS:
        added, removed = "; ".join(statements("NEW", 1)), "; ".join(statements("OLD", -1))
        op.execute(
            f"CREATE TRIGGER {table}_activated_counted AFTER INSERT ON {table} BEGIN {added}; END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_activated_moved AFTER UPDATE ON {table} "
            f"BEGIN {removed}; {added}; END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_activated_uncounted AFTER DELETE ON {table} "
            f"BEGIN {removed}; END"
        )


def _backfill() -> None:
    later, after = _dates()
    pairs = (
        "FROM member_memberships s JOIN adoption_activations a "
        "ON a.tenant_id = s.tenant_id AND a.member_id = s.member_id "
        "WHERE (s.ended_on IS NULL OR a.activated_on <= s.ended_on)"
    )
    op.execute(f"""
INSERT INTO {TABLE} (tenant_id, day, members)
SELECT tenant_id, day, sum(change) FROM (
    SELECT s.tenant_id, {later.format(a="a.activated_on", b="s.started_on")} AS day, 1 AS change
    {pairs}
    UNION ALL
    SELECT s.tenant_id, {after.format(a="s.ended_on")}, -1 {pairs} AND s.ended_on IS NOT NULL
    UNION ALL
    SELECT a.tenant_id, a.activated_on, 1 FROM adoption_activations a WHERE NOT EXISTS (
        SELECT 1 FROM member_memberships s
        WHERE s.tenant_id = a.tenant_id AND s.member_id = a.member_id)
) AS changes
GROUP BY tenant_id, day""")


def _rls() -> None:
    op.execute(f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY tenant_read ON {TABLE} FOR SELECT USING ({READ_PREDICATE})")
    op.execute(f"CREATE POLICY tenant_insert ON {TABLE} FOR INSERT WITH CHECK ({TENANT_PREDICATE})")
    op.execute(
        f"CREATE POLICY tenant_update ON {TABLE} FOR UPDATE "
        f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
    )
    op.execute(f"CREATE POLICY tenant_delete ON {TABLE} FOR DELETE USING ({TENANT_PREDICATE})")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "day", name="pk_adoption_activated_counts"),
    )
    if _is_postgres():
        _rls()
    _backfill()
    if _is_postgres():
        _postgres_triggers()
    else:
        _sqlite_triggers()


def downgrade() -> None:
    for table, _ in TRIGGERS:
        if _is_postgres():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_activated ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_activated()")
        else:
            for suffix in ("counted", "moved", "uncounted"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_activated_{suffix}")
    op.drop_table(TABLE)
