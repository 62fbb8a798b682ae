"""author names: the display name of whoever asked for, scheduled, acknowledged or set a row

``rollout_approvals.requested_by_name``, ``rollout_scheduled_steps.requested_by_name``,
``rollout_notices.acknowledged_by_name`` and ``flag_overrides.updated_by_name`` keep the token's
``name`` claim of the person who wrote the row, as ``rollout_audit.actor_name`` does (0014): the
console names people without resolving a subject later. Existing rows have no name (null: the
console shows the subject).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

COLUMNS = (
    ("rollout_approvals", "requested_by_name"),
    ("rollout_scheduled_steps", "requested_by_name"),
    ("rollout_notices", "acknowledged_by_name"),
    ("flag_overrides", "updated_by_name"),
)


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column(column, sa.String(length=200), nullable=True))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column(column)
