"""Handbook reads: members, meetings, notices, documents, draft resolutions."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import reads
from tenants.errors import NotAllowed
from tenants.handbook import statements
from tenants.handbook.access import Actor
from tenants.handbook.models import (
    Attendance,
    Document,
    DraftResolution,
    Meeting,
    Member,
    ResolutionComment,
)
from tenants.handbook.rows import (
    MeetingRow,
    MemberRow,
    NoticeRow,
    as_meeting,
    as_member,
    as_notice,
)

MemberCursor = tuple[str, uuid.UUID]


class When(StrEnum):
    UPCOMING = "upcoming"
    PAST = "past"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class MemberFilter:
    branch_id: uuid.UUID | None = None
    status: str | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class MemberPage:
    rows: Sequence[MemberRow]
    has_next: bool
    total: int


async def get_member(
    *, session: AsyncSession, tenant_id: str, member_id: uuid.UUID
) -> Member | None:
    """One member of the tenant, or None."""
    return await session.get(Member, (tenant_id, member_id))


async def members_by_ids(
    *, session: AsyncSession, tenant_id: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, MemberRow]:
    """The tenant's members with these ids, keyed by id (plain rows, no ORM)."""
    params = {"tenant_id": tenant_id, "ids": list(ids)}
    found = await reads.rows(
        session, statements.MEMBERS_BY_IDS, params, postgres=statements.MEMBERS_BY_ID_ARRAY
    )
    return {row.id: row for row in map(as_member, found)}


def _member_params(tenant_id: str, filters: MemberFilter) -> dict[str, object]:
    params: dict[str, object] = {"tenant_id": tenant_id}
    if filters.branch_id is not None:
        params["branch_id"] = filters.branch_id
    if filters.status is not None:
        params["status"] = filters.status
    if filters.search:
        params["pattern"] = statements.contains_pattern(filters.search)
    return params


async def members_page(
    *,
    session: AsyncSession,
    tenant_id: str,
    filters: MemberFilter,
    first: int,
    after: MemberCursor | None,
) -> MemberPage:
    """A keyset page of members ordered by full name, with the filter's total.

    One statement: each row carries the total; only a page with no row asks for it apart.
    """
    params = _member_params(tenant_id, filters) | {"limit": first + 1}
    variant = ("branch_id" in params, "status" in params, "pattern" in params)
    if after is not None:
        params |= {"after_name": after[0], "after_id": after[1]}
    found = await reads.rows(session, statements.members_page(*variant, after is not None), params)
    if found:
        total = found[0][-1]
    else:
        total = (await reads.rows(session, statements.members_count(*variant), params))[0][0]
    page = [MemberRow(*row[:-1]) for row in found]
    return MemberPage(rows=page[:first], has_next=len(page) > first, total=int(total or 0))


async def readable_members_page(
    *,
    session: AsyncSession,
    tenant_id: str,
    actor: Actor,
    filters: MemberFilter,
    first: int,
    after: MemberCursor | None,
) -> MemberPage:
    """:func:`members_page` within what ``actor`` reads: any branch, or only their own (asking
    for another's raises :class:`NotAllowed`; without a branch they read no member)."""
    scope = actor.readable_branch_ids
    if scope is not None:
        if filters.branch_id is not None and filters.branch_id not in scope:
            raise NotAllowed("You may only list your own branch's members.")
        if not scope:
            return MemberPage(rows=[], has_next=False, total=0)
        filters = replace(filters, branch_id=scope[0])
    return await members_page(
        session=session, tenant_id=tenant_id, filters=filters, first=first, after=after
    )


async def members_by_branches(
    *, session: AsyncSession, tenant_id: str, branch_ids: Sequence[uuid.UUID], first: int
) -> dict[uuid.UUID, list[Member]]:
    """The first ``first`` members of each branch by name, in one statement."""
    rank = (
        func.row_number()
        .over(partition_by=Member.branch_id, order_by=(Member.full_name, Member.id))
        .label("rank")
    )
    inner = (
        select(Member, rank)
        .where(Member.tenant_id == tenant_id, Member.branch_id.in_(branch_ids))
        .subquery()
    )
    query = select(inner).where(inner.c.rank <= first).order_by(inner.c.branch_id, inner.c.rank)
    members = select(Member).from_statement(query)
    grouped: dict[uuid.UUID, list[Member]] = defaultdict(list)
    for member in await session.scalars(members):
        grouped[member.branch_id].append(member)
    return grouped


async def count_members_by_branches(
    *, session: AsyncSession, tenant_id: str, branch_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How many members each branch has."""
    query = (
        select(Member.branch_id, func.count())
        .where(Member.tenant_id == tenant_id, Member.branch_id.in_(branch_ids))
        .group_by(Member.branch_id)
    )
    return {branch_id: int(count) for branch_id, count in (await session.execute(query)).all()}


def _meeting_window(query: Select[Meeting], when: When, now: dt.datetime) -> Select[Meeting]:
    if when is When.UPCOMING:
        return query.where(Meeting.ends_at >= now).order_by(Meeting.starts_at, Meeting.id)
    if when is When.PAST:
        return query.where(Meeting.ends_at < now).order_by(Meeting.starts_at.desc(), Meeting.id)
    return query.order_by(Meeting.starts_at.desc(), Meeting.id)


async def list_meetings(
    *,
    session: AsyncSession,
    tenant_id: str,
    actor: Actor,
    when: When,
    now: dt.datetime,
    first: int,
    branch_id: uuid.UUID | None = None,
) -> list[MeetingRow]:
    """Meetings the actor may read, nearest first for upcoming, latest first otherwise."""
    own_branch = not actor.sees_whole_tenant
    query = statements.meetings(when.value, branch_id is not None, own_branch)
    params = {
        "tenant_id": tenant_id,
        "branch_id": branch_id,
        "own_branch_id": actor.branch_id,
        "now": now,
        "limit": first,
    }
    return [as_meeting(row) for row in await reads.rows(session, query, params)]


async def get_meeting(
    *, session: AsyncSession, tenant_id: str, meeting_id: uuid.UUID
) -> Meeting | None:
    """One meeting of the tenant, or None."""
    return await session.get(Meeting, (tenant_id, meeting_id))


async def meetings_by_branches(
    *,
    session: AsyncSession,
    tenant_id: str,
    branch_ids: Sequence[uuid.UUID],
    when: When,
    now: dt.datetime,
) -> dict[uuid.UUID, list[Meeting]]:
    """Meetings of each branch, in one statement."""
    query = select(Meeting).where(Meeting.tenant_id == tenant_id, Meeting.branch_id.in_(branch_ids))
    grouped: dict[uuid.UUID, list[Meeting]] = defaultdict(list)
    for meeting in await session.scalars(_meeting_window(query, when, now)):
        grouped[meeting.branch_id].append(meeting)
    return grouped


async def attendance_by_meetings(
    *, session: AsyncSession, tenant_id: str, meeting_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Attendance]]:
    """Attendance rows of each meeting."""
    query = (
        select(Attendance)
        .where(Attendance.tenant_id == tenant_id, Attendance.meeting_id.in_(meeting_ids))
        .order_by(Attendance.meeting_id, Attendance.member_id)
    )
    grouped: dict[uuid.UUID, list[Attendance]] = defaultdict(list)
    for row in await session.scalars(query):
        grouped[row.meeting_id].append(row)
    return grouped


async def list_notices(
    *, session: AsyncSession, tenant_id: str, actor: Actor, first: int, kind: str | None = None
) -> list[NoticeRow]:
    """Latest notices the actor may read: tenant-wide ones and their branch's."""
    query = statements.notices(kind is not None, not actor.sees_whole_tenant)
    params = {
        "tenant_id": tenant_id,
        "kind": kind,
        "own_branch_id": actor.branch_id,
        "limit": first,
    }
    return [as_notice(row) for row in await reads.rows(session, query, params)]


async def list_documents(
    *, session: AsyncSession, tenant_id: str, first: int, search: str | None = None
) -> Sequence[Document]:
    """Documents of the tenant's library, newest first."""
    query = select(Document).where(Document.tenant_id == tenant_id)
    if search:
        query = query.where(
            or_(
                Document.number.contains(search, autoescape=True),
                Document.title.contains(search, autoescape=True),
            )
        )
    query = query.order_by(Document.issued_on.desc(), Document.id).limit(first)
    return (await session.scalars(query)).all()


async def drafts_by_branches(
    *, session: AsyncSession, tenant_id: str, branch_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[DraftResolution]]:
    """Draft resolutions of each branch, latest closing first."""
    query = (
        select(DraftResolution)
        .where(DraftResolution.tenant_id == tenant_id, DraftResolution.branch_id.in_(branch_ids))
        .order_by(DraftResolution.closes_at.desc(), DraftResolution.id)
    )
    grouped: dict[uuid.UUID, list[DraftResolution]] = defaultdict(list)
    for row in await session.scalars(query):
        grouped[row.branch_id].append(row)
    return grouped


async def comments_by_resolutions(
    *, session: AsyncSession, tenant_id: str, resolution_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ResolutionComment]]:
    """Comments on each draft resolution, oldest first."""
    query = (
        select(ResolutionComment)
        .where(
            and_(
                ResolutionComment.tenant_id == tenant_id,
                ResolutionComment.resolution_id.in_(resolution_ids),
            )
        )
        .order_by(ResolutionComment.created_at, ResolutionComment.id)
    )
    grouped: dict[uuid.UUID, list[ResolutionComment]] = defaultdict(list)
    for row in await session.scalars(query):
        grouped[row.resolution_id].append(row)
    return grouped
