"""foundation: hierarchy and handbook, with row-level security on PostgreSQL

Revision ID: 0001
Revises:
Create Date: 2026-11-25 11:38:43.046112
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TENANT_OWNED = (
    "organisations",
    "branches",
    "members",
    "meetings",
    "attendance",
    "notices",
    "documents",
    "draft_resolutions",
    "resolution_comments",
)
# The request's tenant, set per transaction; an unset setting matches no row.
TENANT_PREDICATE = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')"


def _enable_row_level_security() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TENANT_OWNED:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        # FORCE: the table owner is held to the policy too (only superusers bypass it).
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})"
        )


def upgrade() -> None:

    op.create_table(
        "documents",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_documents")),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_documents_tenant_issued", ["tenant_id", "issued_on"], unique=False
        )

    op.create_table(
        "notices",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notices_tenant_published", ["tenant_id", "published_at"], unique=False
        )

    op.create_table(
        "provinces",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provinces")),
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=63), nullable=False),
        sa.Column("province_id", sa.String(length=63), nullable=False),
        sa.Column("parent_id", sa.String(length=63), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["tenants.id"], name=op.f("fk_tenants_parent_id_tenants")
        ),
        sa.ForeignKeyConstraint(
            ["province_id"], ["provinces.id"], name=op.f("fk_tenants_province_id_provinces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
    )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tenants_province_id"), ["province_id"], unique=False)

    op.create_table(
        "organisations",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "parent_id"],
            ["organisations.tenant_id", "organisations.id"],
            name=op.f("fk_organisations_tenant_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_organisations_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_organisations")),
    )
    op.create_table(
        "branches",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "organisation_id"],
            ["organisations.tenant_id", "organisations.id"],
            name=op.f("fk_branches_tenant_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_branches_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_branches")),
    )
    with op.batch_alter_table("branches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_branches_tenant_organisation", ["tenant_id", "organisation_id"], unique=False
        )

    op.create_table(
        "draft_resolutions",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "branch_id"],
            ["branches.tenant_id", "branches.id"],
            name=op.f("fk_draft_resolutions_tenant_id_branches"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_draft_resolutions")),
    )
    with op.batch_alter_table("draft_resolutions", schema=None) as batch_op:
        batch_op.create_index("ix_drafts_tenant_branch", ["tenant_id", "branch_id"], unique=False)

    op.create_table(
        "meetings",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "branch_id"],
            ["branches.tenant_id", "branches.id"],
            name=op.f("fk_meetings_tenant_id_branches"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_meetings")),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meetings_tenant_branch_starts",
            ["tenant_id", "branch_id", "starts_at"],
            unique=False,
        )
        batch_op.create_index("ix_meetings_tenant_starts", ["tenant_id", "starts_at"], unique=False)

    op.create_table(
        "members",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("branch_id", sa.Uuid(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("position", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("is_religious_believer", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "branch_id"],
            ["branches.tenant_id", "branches.id"],
            name=op.f("fk_members_tenant_id_branches"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_members")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_members_tenant_branch_name",
            ["tenant_id", "branch_id", "full_name", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_members_tenant_name", ["tenant_id", "full_name", "id"], unique=False
        )

    op.create_table(
        "attendance",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "meeting_id"],
            ["meetings.tenant_id", "meetings.id"],
            name=op.f("fk_attendance_tenant_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "member_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_attendance_tenant_id_members"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "meeting_id", "member_id", name=op.f("pk_attendance")),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index(
            "ix_attendance_tenant_member", ["tenant_id", "member_id"], unique=False
        )

    op.create_table(
        "resolution_comments",
        sa.Column("tenant_id", sa.String(length=63), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("resolution_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "author_id"],
            ["members.tenant_id", "members.id"],
            name=op.f("fk_resolution_comments_tenant_id_members"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "resolution_id"],
            ["draft_resolutions.tenant_id", "draft_resolutions.id"],
            name=op.f("fk_resolution_comments_tenant_id_draft_resolutions"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_resolution_comments")),
    )
    with op.batch_alter_table("resolution_comments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comments_tenant_resolution",
            ["tenant_id", "resolution_id", "created_at"],
            unique=False,
        )

    _enable_row_level_security()


def downgrade() -> None:

    with op.batch_alter_table("resolution_comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_tenant_resolution")

    op.drop_table("resolution_comments")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index("ix_attendance_tenant_member")

    op.drop_table("attendance")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_tenant_name")
        batch_op.drop_index("ix_members_tenant_branch_name")

    op.drop_table("members")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_meetings_tenant_starts")
        batch_op.drop_index("ix_meetings_tenant_branch_starts")

    op.drop_table("meetings")
    with op.batch_alter_table("draft_resolutions", schema=None) as batch_op:
        batch_op.drop_index("ix_drafts_tenant_branch")

    op.drop_table("draft_resolutions")
    with op.batch_alter_table("branches", schema=None) as batch_op:
        batch_op.drop_index("ix_branches_tenant_organisation")

    op.drop_table("branches")
    op.drop_table("organisations")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tenants_province_id"))

    op.drop_table("tenants")
    op.drop_table("provinces")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_tenant_published")

    op.drop_table("notices")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index("ix_documents_tenant_issued")

    op.drop_table("documents")
