"""Branches as plain rows for the hot reads (see ``tenants.handbook.rows``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from tenants.models import Branch

BRANCHES = Branch.__table__


@dataclass(frozen=True, slots=True)
class BranchRow:
    tenant_id: str
    id: uuid.UUID
    organisation_id: uuid.UUID
    name: str


def as_branch(row: Sequence[Any]) -> BranchRow:
    return BranchRow(*row)


AnyBranch = Branch | BranchRow

# Built once: executing a statement object again reuses its compiled form.
ALL_BRANCHES = (
    select(*BRANCHES.c)
    .where(BRANCHES.c.tenant_id == bindparam("tenant_id"))
    .order_by(BRANCHES.c.name, BRANCHES.c.id)
)
BRANCHES_BY_IDS = ALL_BRANCHES.where(BRANCHES.c.id.in_(bindparam("ids", expanding=True)))
# The same on PostgreSQL with the ids as one array parameter: one statement text for any count.
BRANCHES_BY_ID_ARRAY = ALL_BRANCHES.where(
    BRANCHES.c.id == any_(bindparam("ids", type_=ARRAY(BRANCHES.c.id.type)))
)
