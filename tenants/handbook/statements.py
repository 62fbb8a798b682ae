"""The hot reads' statements, each built once (per variant) and executed with bound parameters.

A statement object executed again is found in SQLAlchemy's compiled cache without being built
anew; the variants of a read (a filter present or not) are built on first use and kept, a
handful each. Parameters are named after what they bind: ``tenant_id``, ``ids``, ``limit``…
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, any_, bindparam, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY

from tenants.handbook.rows import MEETINGS, MEMBERS, NOTICES

LIKE_ESCAPE = "/"
M = MEMBERS.c
LIMIT = bindparam("limit", type_=Integer)

MEMBERS_BY_IDS = select(*M).where(
    M.tenant_id == bindparam("tenant_id"), M.id.in_(bindparam("ids", expanding=True))
)
# The same on PostgreSQL with the ids as one array parameter: one statement text for any count.
MEMBERS_BY_ID_ARRAY = select(*M).where(
    M.tenant_id == bindparam("tenant_id"), M.id == any_(bindparam("ids", type_=ARRAY(M.id.type)))
)


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its ``%``, ``_`` and ``/`` taken literally
    (what ``ColumnOperators.contains(..., autoescape=True)`` binds)."""
    escaped = (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )
    return f"%{escaped}%"


def _member_conditions(branch: bool, status: bool, search: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [M.tenant_id == bindparam("tenant_id")]
    if branch:
        conditions.append(M.branch_id == bindparam("branch_id"))
    if status:
        conditions.append(M.status == bindparam("status"))
    if search:
        conditions.append(M.full_name.like(bindparam("pattern"), escape=LIKE_ESCAPE))
    return conditions


@functools.cache
def members_count(branch: bool, status: bool, search: bool) -> Select[Any]:
    """How many members match the filter."""
    conditions = _member_conditions(branch, status, search)
    return select(func.count()).select_from(MEMBERS).where(*conditions)


@functools.cache
def members_page(branch: bool, status: bool, search: bool, after: bool) -> Select[Any]:
    """A keyset page of members by name, each row also carrying the filter's total."""
    conditions = _member_conditions(branch, status, search)
    total = members_count(branch, status, search).scalar_subquery().label("total")
    query = select(*M, total).where(*conditions)
    if after:
        cursor = tuple_(
            bindparam("after_name", type_=M.full_name.type),
            bindparam("after_id", type_=M.id.type),
        )
        query = query.where(tuple_(M.full_name, M.id) > cursor)
    return query.order_by(M.full_name, M.id).limit(LIMIT)


@functools.cache
def meetings(when: str, branch: bool, own_branch: bool) -> Select[Any]:
    """Meetings of the tenant: upcoming nearest first, past and all latest first."""
    c = MEETINGS.c
    query = select(*c).where(c.tenant_id == bindparam("tenant_id"))
    if branch:
        query = query.where(c.branch_id == bindparam("branch_id"))
    if own_branch:
        query = query.where(c.branch_id == bindparam("own_branch_id"))
    if when == "upcoming":
        query = query.where(c.ends_at >= bindparam("now")).order_by(c.starts_at, c.id)
    elif when == "past":
        query = query.where(c.ends_at < bindparam("now")).order_by(c.starts_at.desc(), c.id)
    else:
        query = query.order_by(c.starts_at.desc(), c.id)
    return query.limit(LIMIT)


@functools.cache
def notices(kind: bool, own_branch: bool) -> Select[Any]:
    """Latest notices of the tenant: optionally of a kind, or tenant-wide and one branch's."""
    c = NOTICES.c
    query = select(*c).where(c.tenant_id == bindparam("tenant_id"))
    if kind:
        query = query.where(c.kind == bindparam("kind"))
    if own_branch:
        query = query.where(or_(c.branch_id.is_(None), c.branch_id == bindparam("own_branch_id")))
    return query.order_by(c.published_at.desc(), c.id).limit(LIMIT)
