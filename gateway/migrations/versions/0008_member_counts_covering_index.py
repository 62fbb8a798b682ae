"""member counts: a covering index for the province dashboard's members-before-the-range sum

``adoption.counters.members`` sums ``adoption_member_counts.members`` per tenant over every
``joined_on`` before the range: about 5,000 rows per tenant of a district. The rows arrive one
joining day at a time (the ``members`` trigger), so across a nation a tenant's rows are spread
over the whole heap: at 700 tenants (3.9 million rows) a province of 11 tenants read 57,000 rows
from 22,000 heap pages, 200–320 ms. ``(tenant_id, joined_on) INCLUDE (members)`` answers the sum
from the index alone (PostgreSQL's index-only scan); SQLite, which has no ``INCLUDE``, gets the
same columns as keys, which covers the query the same way.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 01:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEX = "ix_adoption_member_counts_covering"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            INDEX,
            "adoption_member_counts",
            ["tenant_id", "joined_on"],
            postgresql_include=["members"],
        )
    else:
        op.create_index(INDEX, "adoption_member_counts", ["tenant_id", "joined_on", "members"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="adoption_member_counts")
