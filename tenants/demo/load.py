"""``pilotgraph demo load``: write the demo provinces, one transaction per tenant, idempotently."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.sessions import scope_session
from tenants import statistics
from tenants.demo.build import TenantRows, build_tenant
from tenants.demo.province import PROVINCES, DemoProvince, DemoTenant
from tenants.handbook.models import (
    Attendance,
    Document,
    DraftResolution,
    Meeting,
    Member,
    Notice,
    ResolutionComment,
)
from tenants.models import Branch, Organisation, Province, Tenant
from tenants.service import count_members

DEMO_SEED = 20240521
CHUNK = 5_000
MODELS = (
    Organisation,
    Branch,
    Member,
    Meeting,
    Attendance,
    Notice,
    Document,
    DraftResolution,
    ResolutionComment,
)
# What loading tenants fills (``adoption_member_counts`` through the trigger on ``members``).
FILLED = ("tenants", *(m.__tablename__ for m in MODELS), "adoption_member_counts")
Progress = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class LoadReport:
    loaded: list[str]
    skipped: list[str]


async def load_demo(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    today: dt.date,
    progress: Progress | None = None,
    seed: int = DEMO_SEED,
) -> LoadReport:
    """Load every demo tenant not already loaded; a tenant is all or nothing."""
    loaded, skipped = [], []
    for province in PROVINCES:
        await _add_province(sessionmaker, province)
        for tenant in province.tenants:
            if await _load_tenant(sessionmaker, province, tenant, seed=seed, today=today):
                loaded.append(tenant.slug)
            else:
                skipped.append(tenant.slug)
            if progress:
                progress(tenant.slug, tenant.members)
    if loaded:
        async with sessionmaker() as session:
            await statistics.analyze(session, FILLED)
            await session.commit()
    return LoadReport(loaded=loaded, skipped=skipped)


async def _add_province(
    sessionmaker: async_sessionmaker[AsyncSession], province: DemoProvince
) -> None:
    async with sessionmaker() as session:
        if await session.get(Province, province.id) is None:
            session.add(Province(id=province.id, name=province.name, timezone=province.timezone))
            await session.commit()


async def _load_tenant(
    sessionmaker: async_sessionmaker[AsyncSession],
    province: DemoProvince,
    tenant: DemoTenant,
    *,
    seed: int,
    today: dt.date,
) -> bool:
    async with scope_session(sessionmaker(), tenant.slug) as session:
        registered = await session.get(Tenant, tenant.slug) is not None
        if registered and await count_members(session=session, tenant_id=tenant.slug):
            return False
        if not registered:
            session.add(
                Tenant(
                    id=tenant.slug,
                    province_id=province.id,
                    name=tenant.name,
                    kind=tenant.kind.value,
                )
            )
            await session.flush()
        await _insert_rows(session, build_tenant(tenant, seed=seed, today=today))
        await session.commit()
    return True


async def _insert_rows(session: AsyncSession, rows: TenantRows) -> None:
    plan = (
        (Organisation, rows.organisations),
        (Branch, rows.branches),
        (Member, rows.members),
        (Meeting, rows.meetings),
        (Attendance, rows.attendance),
        (Notice, rows.notices),
        (Document, rows.documents),
        (DraftResolution, rows.drafts),
        (ResolutionComment, rows.comments),
    )
    for model, values in plan:
        for start in range(0, len(values), CHUNK):
            await session.execute(insert(model), values[start : start + CHUNK])
