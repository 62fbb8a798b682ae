"""Members over time: leaving, rejoining and transferring to another tenant of the province.

Each command ends or opens a stay in ``member_memberships`` in the caller's transaction; the
triggers of migration 0013 move ``adoption_member_counts``, so members at any earlier date stay
as they were. A move takes effect on ``on``: the old stay's last day is the day before.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.sessions import switch_tenant
from tenants.errors import Conflict, InvalidInput, NotFound
from tenants.handbook.erasure import is_erased
from tenants.handbook.models import (
    Member,
    MemberMembership,
    MembershipEnd,
    MembershipStart,
    MemberStatus,
)
from tenants.models import Branch, Province, Tenant


async def _member_or_raise(session: AsyncSession, tenant_id: str, member_id: uuid.UUID) -> Member:
    member = await session.get(Member, (tenant_id, member_id))
    if member is None:
        raise NotFound("Member", field="memberId")
    if await is_erased(session=session, tenant_id=tenant_id, member_id=member_id):
        # the stays now bear the pseudonym of the erased member's activity: nothing finds them
        raise Conflict(
            "The member was erased: their memberships are no longer theirs to move.",
            field="memberId",
        )
    return member


async def _last_stay(
    session: AsyncSession, tenant_id: str, member_id: uuid.UUID
) -> MemberMembership | None:
    query = (
        select(MemberMembership)
        .where(MemberMembership.tenant_id == tenant_id, MemberMembership.member_id == member_id)
        .order_by(MemberMembership.started_on.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def province_today(session: AsyncSession, tenant_id: str, now: dt.datetime) -> dt.date:
    """Today in the tenant's province (its time zone): the latest day a move may take effect."""
    zone = await session.scalar(
        select(Province.timezone)
        .join(Tenant, Tenant.province_id == Province.id)
        .where(Tenant.id == tenant_id)
    )
    return now.astimezone(ZoneInfo(zone or "Asia/Ho_Chi_Minh")).date()


def _check_day(on: dt.date, today: dt.date) -> None:
    if on > today:
        raise InvalidInput("The date is in the future.", field="on")


async def _end_current_or_raise(
    session: AsyncSession, tenant_id: str, member_id: uuid.UUID, on: dt.date, how: MembershipEnd
) -> None:
    stay = await _last_stay(session, tenant_id, member_id)
    if stay is None or stay.ended_on is not None:
        raise Conflict("The member is not a member of this tenant now.", field="memberId")
    if on <= stay.started_on:
        raise InvalidInput("The date is not after the current membership began.", field="on")
    stay.ended_on, stay.ended = on - dt.timedelta(days=1), how.value
    await session.flush()


async def leave(
    *, session: AsyncSession, tenant_id: str, member_id: uuid.UUID, on: dt.date, today: dt.date
) -> None:
    """End a member's current stay: ``on`` is the first day they are no longer a member."""
    _check_day(on, today)
    await _member_or_raise(session, tenant_id, member_id)
    await _end_current_or_raise(session, tenant_id, member_id, on, MembershipEnd.LEFT)


async def _open_or_raise(
    session: AsyncSession, tenant_id: str, member_id: uuid.UUID, on: dt.date, how: MembershipStart
) -> None:
    stay = await _last_stay(session, tenant_id, member_id)
    if stay is not None and stay.ended_on is None:
        raise Conflict("The member is already a member of this tenant.", field="memberId")
    if stay is not None and on <= stay.ended_on:  # type: ignore[operator]
        raise InvalidInput("The date is not after the last membership ended.", field="on")
    session.add(
        MemberMembership(tenant_id=tenant_id, member_id=member_id, started_on=on, began=how)
    )
    await session.flush()


async def rejoin(
    *, session: AsyncSession, tenant_id: str, member_id: uuid.UUID, on: dt.date, today: dt.date
) -> None:
    """Open a new stay from ``on`` for a member who left (or transferred out) earlier."""
    _check_day(on, today)
    member = await _member_or_raise(session, tenant_id, member_id)
    await _open_or_raise(session, tenant_id, member_id, on, MembershipStart.JOINED)
    if member.status == MemberStatus.TRANSFERRED.value:
        member.status = MemberStatus.OFFICIAL.value


async def _check_destination(session: AsyncSession, tenant_id: str, to_tenant_id: str) -> None:
    if to_tenant_id == tenant_id:
        raise InvalidInput("A transfer goes to another tenant.", field="toTenant")
    here, there = await session.get(Tenant, tenant_id), await session.get(Tenant, to_tenant_id)
    if there is None or here is None or there.province_id != here.province_id:
        raise NotFound("Tenant", field="toTenant")


async def transfer(
    *,
    session: AsyncSession,
    tenant_id: str,
    member_id: uuid.UUID,
    to_tenant_id: str,
    branch_id: uuid.UUID,
    on: dt.date,
    today: dt.date,
) -> None:
    """Move a member into a branch of another tenant of the same province from ``on``: the
    stay here ends the day before, one there begins ``on`` (one transaction, both tenants)."""
    _check_day(on, today)
    await _check_destination(session, tenant_id, to_tenant_id)
    member = await _member_or_raise(session, tenant_id, member_id)
    await _end_current_or_raise(session, tenant_id, member_id, on, MembershipEnd.TRANSFERRED_OUT)
    member.status, status = MemberStatus.TRANSFERRED.value, member.status
    await session.flush()
    await switch_tenant(session, to_tenant_id)
    if await session.get(Branch, (to_tenant_id, branch_id)) is None:
        raise NotFound("Branch", field="branchId")
    await _open_or_raise(session, to_tenant_id, member_id, on, MembershipStart.TRANSFERRED_IN)
    arrived = await session.get(Member, (to_tenant_id, member_id))
    if arrived is None:
        fields = {
            c: getattr(member, c) for c in ("full_name", "birth_year", "joined_on", "position")
        }
        arrived = Member(tenant_id=to_tenant_id, id=member_id, branch_id=branch_id, **fields)
        session.add(arrived)
    arrived.branch_id, arrived.status = branch_id, status
    await session.flush()
