"""What other domains may read about tenants and provinces (a narrow read model).

Rollout and adoption never import ``tenants.models``: they ask here, so the tenants' tables can
change behind these functions. Each answers in one query; none writes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tenants.models import Province, Tenant


@dataclass(frozen=True, slots=True)
class TenantZone:
    """A tenant and the time zone of its province (where its local days and months start)."""

    tenant_id: str
    timezone: str


async def province_tenants(*, session: AsyncSession, province_id: str) -> list[str]:
    """The slugs of a province's tenants, in slug order."""
    query = select(Tenant.id).where(Tenant.province_id == province_id).order_by(Tenant.id)
    return list(await session.scalars(query))


async def province_tenant_count(*, session: AsyncSession, province_id: str) -> int:
    """How many tenants the province has."""
    query = select(func.count()).select_from(Tenant).where(Tenant.province_id == province_id)
    return int(await session.scalar(query) or 0)


async def province_timezone(*, session: AsyncSession, province_id: str) -> str:
    """The province's IANA time zone (where its local days start), Asia/Ho_Chi_Minh by default."""
    zone = await session.scalar(select(Province.timezone).where(Province.id == province_id))
    return zone or "Asia/Ho_Chi_Minh"


async def province_tenants_among(
    *, session: AsyncSession, province_id: str, tenant_ids: Collection[str]
) -> set[str]:
    """Those of ``tenant_ids`` that are tenants of the province (unknown slugs are left out)."""
    query = select(Tenant.id).where(Tenant.province_id == province_id, Tenant.id.in_(tenant_ids))
    return set(await session.scalars(query))


async def provinces_of(*, session: AsyncSession, tenant_ids: Collection[str]) -> dict[str, str]:
    """Tenant slug → its province, for those of ``tenant_ids`` that exist."""
    rows = await session.execute(
        select(Tenant.id, Tenant.province_id).where(Tenant.id.in_(tenant_ids))
    )
    return {tenant_id: province_id for tenant_id, province_id in rows}


async def all_tenants(*, session: AsyncSession) -> list[TenantZone]:
    """Every tenant with its province's time zone, in slug order."""
    query = select(Tenant.id, Province.timezone).join(Province, Tenant.province_id == Province.id)
    rows = await session.execute(query.order_by(Tenant.id))
    return [TenantZone(tenant_id, timezone) for tenant_id, timezone in rows]
