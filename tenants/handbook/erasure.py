"""A member's personal fields erased on request (Decree 13/2023), and the erasure's audit.

The member's row stays, so that the attendance of past meetings keeps its numbers; the member's
stays (``member_memberships``) take the pseudonym of their app activity, so that the tenant's
members and activated members at every date keep theirs, and nothing links the stays to the
person any more: a move of an erased member is refused (:mod:`.memberships`). What could
identify the person goes: the name, birth year, position and the religious-believer flag
(sensitive data under the decree), and the text of their comments on draft resolutions. The
audit row (``member_erasures``) says who erased the member and when, and how many events and
devices were anonymised; nothing of what was erased.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tenants.errors import AlreadyErased, NotFound
from tenants.handbook.models import Member, MemberErasure, MemberMembership, ResolutionComment

ERASED = "[erased]"  # what an erased name, position or comment reads


@dataclass(frozen=True, slots=True)
class Erasure:
    member_id: uuid.UUID
    erased_at: dt.datetime
    actor: str
    events: int  # the member's events anonymised
    devices: int  # the member's devices anonymised


async def erase_personal_fields(
    *, session: AsyncSession, tenant_id: str, member_id: uuid.UUID
) -> None:
    """Blank the member's personal fields and comments; raises :class:`NotFound` (no such member
    in the tenant) or :class:`AlreadyErased`."""
    member = await session.get(Member, (tenant_id, member_id))
    if member is None or member.tenant_id != tenant_id:
        raise NotFound("Member", field="memberId")
    if await is_erased(session=session, tenant_id=tenant_id, member_id=member_id):
        raise AlreadyErased
    member.full_name, member.position = ERASED, ERASED
    member.birth_year, member.is_religious_believer = 0, False
    await session.execute(
        update(ResolutionComment)
        .where(ResolutionComment.tenant_id == tenant_id, ResolutionComment.author_id == member_id)
        .values(body=ERASED)
        .execution_options(synchronize_session=False)
    )


async def rekey_stays(
    *, session: AsyncSession, tenant_id: str, member_id: uuid.UUID, pseudonym: uuid.UUID
) -> None:
    """Give the member's stays in the tenant the pseudonym their app activity now bears: members
    at every date read the same (the triggers of migration 0013 move nothing on balance), and
    their first login still meets their stays."""
    await session.execute(
        update(MemberMembership)
        .where(MemberMembership.tenant_id == tenant_id, MemberMembership.member_id == member_id)
        .values(member_id=pseudonym)
        .execution_options(synchronize_session=False)
    )


async def is_erased(*, session: AsyncSession, tenant_id: str, member_id: uuid.UUID) -> bool:
    """Whether the member's personal data was erased in the tenant."""
    return await session.get(MemberErasure, (tenant_id, member_id)) is not None


async def record(
    *,
    session: AsyncSession,
    tenant_id: str,
    member_id: uuid.UUID,
    actor: str,
    now: dt.datetime,
    events: int,
    devices: int,
) -> Erasure:
    """The audit row of an erasure; a concurrent erasure of the same member that committed
    first makes this one :class:`AlreadyErased` (the key)."""
    row = MemberErasure(
        tenant_id=tenant_id,
        member_id=member_id,
        erased_at=now,
        actor=actor,
        events=events,
        devices=devices,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise AlreadyErased from exc
    return Erasure(member_id, now, actor, events, devices)
