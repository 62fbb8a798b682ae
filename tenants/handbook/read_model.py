"""Narrow reads other packages may use without knowing handbook internals (today: the CLI's
development tokens)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenants.handbook.models import Member


async def first_member_with_position(
    *, session: AsyncSession, tenant_id: str, position: str | None
) -> uuid.UUID | None:
    """The first member by name (optionally holding ``position``), for development tokens."""
    query = select(Member.id).where(Member.tenant_id == tenant_id)
    if position is not None:
        query = query.where(Member.position == position)
    return await session.scalar(query.order_by(Member.branch_id, Member.full_name).limit(1))
