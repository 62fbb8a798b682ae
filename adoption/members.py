"""The few facts adoption reads about tenants and members (a narrow read model)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenants.models import Province, Tenant


async def province_tenants(*, session: AsyncSession, province_id: str) -> list[str]:
    """The slugs of a province's tenants."""
    query = select(Tenant.id).where(Tenant.province_id == province_id).order_by(Tenant.id)
    return list(await session.scalars(query))


async def all_tenants(*, session: AsyncSession) -> list[tuple[str, str]]:
    """(tenant slug, time zone) of every tenant."""
    query = select(Tenant.id, Province.timezone).join(Province, Tenant.province_id == Province.id)
    return [(slug, tz) for slug, tz in await session.execute(query.order_by(Tenant.id))]
