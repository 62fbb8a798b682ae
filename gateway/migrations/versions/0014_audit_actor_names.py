"""audit actor names: who acted, by name, and a search key over subject and name

``rollout_audit.actor_name``: the display name of the actor when the change was made (the token's
``name`` claim), kept with the row so the audit never resolves a person later, across provinces or
after they left. ``rollout_audit.actor_key``: subject and name case-folded, the column the audit's
partial actor match reads. Existing rows get their subject, lower-cased, as their key.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 04:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _is_postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _backfill_keys() -> None:
    if _is_postgres():  # the audit is append-only for everyone but this one backfill
        op.execute("ALTER TABLE rollout_audit DISABLE TRIGGER rollout_audit_append_only")
    op.execute("UPDATE rollout_audit SET actor_key = lower(actor)")
    if _is_postgres():
        op.execute("ALTER TABLE rollout_audit ENABLE TRIGGER rollout_audit_append_only")


def upgrade() -> None:
    with op.batch_alter_table("rollout_audit") as batch_op:
        batch_op.add_column(sa.Column("actor_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("actor_key", sa.String(length=401), nullable=True))
    _backfill_keys()
    with op.batch_alter_table("rollout_audit") as batch_op:
        batch_op.alter_column("actor_key", existing_type=sa.String(length=401), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("rollout_audit") as batch_op:
        batch_op.drop_column("actor_key")
        batch_op.drop_column("actor_name")
