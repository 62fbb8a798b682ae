"""service credentials: API keys for OFREP machine clients, scoped to a province or a tenant

Only the SHA-256 of each secret is stored; the public id is the primary key the gateway looks a
presented key up by. Province-level rows, like ``provinces``: no tenant row-level policy.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 04:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "service_credentials",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("province_id", sa.String(63), sa.ForeignKey("provinces.id"), nullable=False),
        sa.Column("tenant_id", sa.String(63), sa.ForeignKey("tenants.id"), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("expires_at", moment, nullable=True),
        sa.Column("revoked_at", moment, nullable=True),
        sa.Column("last_used_at", moment, nullable=True),
    )
    op.create_index("ix_service_credentials_province_id", "service_credentials", ["province_id"])


def downgrade() -> None:
    op.drop_index("ix_service_credentials_province_id", table_name="service_credentials")
    op.drop_table("service_credentials")
