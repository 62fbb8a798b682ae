"""member erasure: the audit of erasures of a member's personal data (Decree 13/2023)

``member_erasures``: one row per erased member of a tenant: who erased it, when, and how many
events and devices were anonymised; nothing of what was erased. Its key makes a second erasure
of the same member a conflict. Tenant-owned, with row-level security as in 0001.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')"


def upgrade() -> None:
    op.create_table(
        "member_erasures",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("devices", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_member_erasures_tenant_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "member_id", name=op.f("pk_member_erasures")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE member_erasures ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE member_erasures FORCE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY tenant_isolation ON member_erasures "
            f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
        )


def downgrade() -> None:
    op.drop_table("member_erasures")
