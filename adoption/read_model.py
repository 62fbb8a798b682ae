"""Adoption reads for a tenant, a wave or the province: the entry points resolvers, the CSV
export and ``/metrics`` call. Reads across tenants go through the explicit province path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from adoption import retention
from adoption.scope import enter_province
from adoption.series import AdoptionPoint, Granularity, combined, periods, series, series_by_tenant
from tenants.read_model import province_tenants


@dataclass(frozen=True, slots=True)
class Target:
    """What a read covers: one tenant (read in its own scope), or tenants of a province."""

    tenant_ids: tuple[str, ...]
    province_id: str | None = None  # set: read through the province path

    @classmethod
    def tenant(cls, tenant_id: str, *, province_id: str | None = None) -> Target:
        return cls((tenant_id,), province_id)


@dataclass(frozen=True, slots=True)
class WaveTenants:
    """A wave of a rollout plan as the caller read it: adoption does not read rollout's plans."""

    position: int
    name: str
    tenant_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WaveSeries:
    position: int
    name: str
    tenant_ids: tuple[str, ...]
    points: list[AdoptionPoint]


async def _enter(session: AsyncSession, target: Target) -> None:
    if target.province_id is not None:
        await enter_province(session, target.province_id)


async def province_target(*, session: AsyncSession, province_id: str) -> Target:
    """Every tenant of ``province_id``."""
    tenants = await province_tenants(session=session, province_id=province_id)
    return Target(tuple(tenants), province_id)


async def adoption_series(
    *, session: AsyncSession, target: Target, start: dt.date, end: dt.date, granularity: Granularity
) -> list[AdoptionPoint]:
    """The KPIs of the target's tenants together, per period."""
    await _enter(session, target)
    return await series(
        session=session, tenant_ids=target.tenant_ids, start=start, end=end, granularity=granularity
    )


async def tenant_series(
    *, session: AsyncSession, target: Target, start: dt.date, end: dt.date, granularity: Granularity
) -> dict[str, list[AdoptionPoint]]:
    """Each of the target's tenants' KPIs, per period (the province dashboard)."""
    await _enter(session, target)
    return await series_by_tenant(
        session=session, tenant_ids=target.tenant_ids, start=start, end=end, granularity=granularity
    )


async def per_tenant_summaries(
    *, session: AsyncSession, target: Target, as_of: dt.date
) -> dict[str, AdoptionPoint]:
    """Each tenant's KPIs for the calendar month of ``as_of`` (up to ``as_of``)."""
    points = await tenant_series(
        session=session,
        target=target,
        start=as_of.replace(day=1),
        end=as_of,
        granularity=Granularity.MONTH,
    )
    return {tenant_id: periods_of[0] for tenant_id, periods_of in points.items()}


async def wave_series(
    *,
    session: AsyncSession,
    province_id: str,
    waves: Sequence[WaveTenants],
    start: dt.date,
    end: dt.date,
    granularity: Granularity,
) -> list[WaveSeries]:
    """The KPIs of each of a plan's ``waves`` (tenants of ``province_id`` only); the tenants of
    every wave are read together, once."""
    await enter_province(session, province_id)
    mine = set(await province_tenants(session=session, province_id=province_id))
    mine_of = [(wave, tuple(t for t in wave.tenant_ids if t in mine)) for wave in waves]
    by_tenant = await series_by_tenant(
        session=session,
        tenant_ids=[t for _, tenant_ids in mine_of for t in tenant_ids],
        start=start,
        end=end,
        granularity=granularity,
    )
    cuts = periods(start, end, granularity)
    return [
        WaveSeries(
            wave.position,
            wave.name,
            tenant_ids,
            combined([by_tenant[t] for t in dict.fromkeys(tenant_ids)], cuts),
        )
        for wave, tenant_ids in mine_of
    ]


async def retention_cohorts(
    *, session: AsyncSession, target: Target, as_of: dt.date, months: int
) -> list[retention.Cohort]:
    """Retention by activation month of the target's tenants together."""
    await _enter(session, target)
    return await retention.cohorts(
        session=session, tenant_ids=target.tenant_ids, as_of=as_of, months=months
    )
