"""What other domains may read about the handbook's members (a narrow read model).

Adoption, the event ingest and the CLI's development tokens ask here instead of importing
``tenants.handbook.models``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenants.handbook.erasure import ERASED
from tenants.handbook.models import Member
from tenants.identity import Principal


async def first_member_with_position(
    *, session: AsyncSession, tenant_id: str, position: str | None
) -> uuid.UUID | None:
    """The first member by name (optionally holding ``position``), for development tokens."""
    query = select(Member.id).where(Member.tenant_id == tenant_id)
    if position is not None:
        query = query.where(Member.position == position)
    return await session.scalar(query.order_by(Member.branch_id, Member.full_name).limit(1))


async def member_ids(*, session: AsyncSession, tenant_id: str) -> list[uuid.UUID]:
    """The ids of the tenant's members, in id order (one query)."""
    query = select(Member.id).where(Member.tenant_id == tenant_id).order_by(Member.id)
    return list(await session.scalars(query))


async def member_of(
    *, session: AsyncSession, tenant_id: str, principal: Principal
) -> uuid.UUID | None:
    """The member a token speaks for in ``tenant_id``, or None when it speaks for none.

    The token's subject must be a member id, the token must be this tenant's, and the member
    one of its members: the rule every way of recording a member's events applies.
    """
    try:
        member_id = uuid.UUID(principal.subject)
    except ValueError:
        return None
    if principal.tenant != tenant_id:
        return None
    found = await session.scalar(
        select(Member.id).where(Member.tenant_id == tenant_id, Member.id == member_id)
    )
    return member_id if found is not None else None


async def full_name(*, session: AsyncSession, tenant_id: str, member_id: uuid.UUID) -> str | None:
    """The member's full name in the tenant's directory; None when absent or erased."""
    name = await session.scalar(
        select(Member.full_name).where(Member.tenant_id == tenant_id, Member.id == member_id)
    )
    return None if name is None or name == ERASED else name
