"""The few facts adoption reads about tenants and members (a narrow read model)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rollout.adoption.models import AdoptionMemberCount
from tenants.handbook.models import Member
from tenants.models import Province, Tenant


async def is_member(*, session: AsyncSession, tenant_id: str, member_id: uuid.UUID) -> bool:
    """Whether ``member_id`` is a member of ``tenant_id``."""
    found = await session.scalar(
        select(Member.id).where(Member.tenant_id == tenant_id, Member.id == member_id)
    )
    return found is not None


async def joined_histogram(
    *, session: AsyncSession, tenant_ids: Sequence[str]
) -> list[tuple[dt.date, int]]:
    """(joined_on, members) of the tenants' current members, by date: members at a date is the
    sum up to it (transferred members are no longer counted; ``adoption_member_counts``)."""
    counts = AdoptionMemberCount
    query = (
        select(counts.joined_on, func.sum(counts.members))
        .where(counts.tenant_id.in_(tenant_ids))
        .group_by(counts.joined_on)
        .order_by(counts.joined_on)
    )
    return [(day, int(count)) for day, count in await session.execute(query)]


async def province_tenants(*, session: AsyncSession, province_id: str) -> list[str]:
    """The slugs of a province's tenants."""
    query = select(Tenant.id).where(Tenant.province_id == province_id).order_by(Tenant.id)
    return list(await session.scalars(query))


async def timezone_of(*, session: AsyncSession, tenant_id: str) -> str | None:
    """The time zone of the tenant's province, or None for an unknown tenant."""
    query = select(Province.timezone).join(Tenant, Tenant.province_id == Province.id)
    return await session.scalar(query.where(Tenant.id == tenant_id))


async def all_tenants(*, session: AsyncSession) -> list[tuple[str, str]]:
    """(tenant slug, time zone) of every tenant."""
    query = select(Tenant.id, Province.timezone).join(Province, Tenant.province_id == Province.id)
    return [(slug, tz) for slug, tz in await session.execute(query.order_by(Tenant.id))]
