"""Tenant hierarchy service: provinces, tenants, organisations and branches."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import reads
from tenants import rows
from tenants.handbook.models import Member
from tenants.models import Organisation, Province, Tenant

# Where a tenant change is announced; every replica's registry listens on it and reloads.
CHANNEL = "pilotgraph_tenants"


async def list_provinces(*, session: AsyncSession) -> Sequence[Province]:
    """Every province, by id."""
    return (await session.scalars(select(Province).order_by(Province.id))).all()


async def list_tenants(*, session: AsyncSession) -> Sequence[Tenant]:
    """Every tenant of every province, by id."""
    return (await session.scalars(select(Tenant).order_by(Tenant.id))).all()


async def list_branches(
    *, session: AsyncSession, tenant_id: str, branch_ids: Sequence[uuid.UUID] | None = None
) -> list[rows.BranchRow]:
    """The tenant's branches by name, optionally only those given (plain rows, no ORM)."""
    if branch_ids is None:
        found = await reads.rows(session, rows.ALL_BRANCHES, {"tenant_id": tenant_id})
    else:
        params = {"tenant_id": tenant_id, "ids": list(branch_ids)}
        found = await reads.rows(
            session, rows.BRANCHES_BY_IDS, params, postgres=rows.BRANCHES_BY_ID_ARRAY
        )
    return [rows.as_branch(row) for row in found]


async def organisations_by_ids(
    *, session: AsyncSession, tenant_id: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Organisation]:
    """The tenant's organisations with the given ids, keyed by id."""
    rows = await session.scalars(
        select(Organisation).where(Organisation.tenant_id == tenant_id, Organisation.id.in_(ids))
    )
    return {row.id: row for row in rows}


async def count_organisations(*, session: AsyncSession, tenant_id: str) -> int:
    """How many grassroots organisations the tenant has."""
    query = (
        select(func.count()).select_from(Organisation).where(Organisation.tenant_id == tenant_id)
    )
    return int(await session.scalar(query) or 0)


async def count_members(*, session: AsyncSession, tenant_id: str) -> int:
    """How many members the tenant has."""
    query = select(func.count()).select_from(Member).where(Member.tenant_id == tenant_id)
    return int(await session.scalar(query) or 0)


async def register_tenant(
    *,
    session: AsyncSession,
    tenant_id: str,
    province_id: str,
    name: str,
    kind: str,
    parent_id: str | None = None,
) -> Tenant:
    """Add a tenant and tell every replica's registry to reload."""
    from db import broadcast
    from tenants.errors import Conflict, NotFound

    if await session.get(Province, province_id) is None:
        raise NotFound("Province", field="provinceId")
    if await session.get(Tenant, tenant_id) is not None:
        raise Conflict(f"Tenant '{tenant_id}' already exists.", field="slug")
    tenant = Tenant(
        id=tenant_id, province_id=province_id, name=name, kind=kind, parent_id=parent_id
    )
    session.add(tenant)
    await session.commit()
    await broadcast.notify(session, CHANNEL, tenant_id)
    return tenant
