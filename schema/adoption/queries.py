"""Adoption queries: thin resolvers that check the reader, call a read, map the result."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.types import Info

from adoption import read_model
from adoption.errors import AdoptionError
from rollout.errors import PlanNotFound
from schema.adoption.access import province_or_raise, target_or_raise, tenants_target_or_raise
from schema.adoption.types import (
    AdoptionPoint,
    AdoptionReport,
    Granularity,
    RetentionCohort,
    WaveAdoption,
)
from schema.adoption.waves import plan_wave_series
from schema.context import Context
from schema.errors import bad_input, from_domain
from schema.fields import field
from schema.permissions import Permission, requires

T = TypeVar("T")
From = Annotated[dt.date, strawberry.argument(name="from", description="First local day.")]
To = Annotated[dt.date, strawberry.argument(name="to", description="Last local day (inclusive).")]


async def _read(info: Info[Context, None], fn: Callable[..., Awaitable[T]], **kwargs: Any) -> T:
    """Run a province-path read on the request's session; domain errors keep their code."""
    try:
        return await info.context.run_province(fn, **kwargs)
    except (AdoptionError, PlanNotFound) as exc:
        raise from_domain(exc) from exc


@strawberry.type
class AdoptionQuery:
    @field(
        extensions=requires(Permission.READ_ADOPTION, needs_tenant=False),
        description="Adoption KPIs of a tenant, or of the whole province when no tenant is named.",
    )
    async def adoption(
        self,
        info: Info[Context, None],
        start: From,
        end: To,
        tenant: str | None = None,
        granularity: Granularity = Granularity.MONTH,
    ) -> AdoptionReport:
        target = target_or_raise(info, tenant)
        points = await _read(
            info,
            read_model.adoption_series,
            target=target,
            start=start,
            end=end,
            granularity=granularity.to_domain(),
        )
        return AdoptionReport(
            tenants=list(target.tenant_ids),
            granularity=granularity,
            points=[AdoptionPoint.from_domain(p) for p in points],
        )

    @field(
        extensions=requires(Permission.READ_ADOPTION, needs_tenant=False),
        description="Adoption KPIs of each named tenant (at most 100), one report each, in order.",
    )
    async def adoption_by_tenant(
        self,
        info: Info[Context, None],
        tenants: list[str],
        start: From,
        end: To,
        granularity: Granularity = Granularity.MONTH,
    ) -> list[AdoptionReport]:
        target = tenants_target_or_raise(info, tenants)
        if not target.tenant_ids:
            return []
        by_tenant = await _read(
            info,
            read_model.tenant_series,
            target=target,
            start=start,
            end=end,
            granularity=granularity.to_domain(),
        )
        return [
            AdoptionReport.of_tenant(tenant_id, granularity, by_tenant[tenant_id])
            for tenant_id in target.tenant_ids
        ]

    @field(
        extensions=requires(Permission.READ_PROVINCE_ADOPTION, needs_tenant=False),
        description="Adoption KPIs of each wave of a flag's rollout plan.",
    )
    async def adoption_by_wave(
        self,
        info: Info[Context, None],
        flag: str,
        start: From,
        end: To,
        granularity: Granularity = Granularity.MONTH,
    ) -> list[WaveAdoption]:
        waves = await _read(
            info,
            plan_wave_series,
            province_id=province_or_raise(info),
            flag=flag,
            start=start,
            end=end,
            granularity=granularity.to_domain(),
        )
        return [WaveAdoption.from_domain(w) for w in waves]

    @field(
        extensions=requires(Permission.READ_ADOPTION, needs_tenant=False),
        description="Retention by activation month of a tenant (or the province).",
    )
    async def retention(
        self, info: Info[Context, None], tenant: str | None = None, months: int = 12
    ) -> list[RetentionCohort]:
        if not 1 <= months <= 36:
            raise bad_input("months must be between 1 and 36.")
        target = target_or_raise(info, tenant)
        as_of = _local_today(info)
        cohorts = await _read(
            info, read_model.retention_cohorts, target=target, as_of=as_of, months=months
        )
        return [RetentionCohort.from_domain(c) for c in cohorts]


def _local_today(info: Info[Context, None]) -> dt.date:
    from adoption.calendar import zone

    timezone = info.context.tenant.timezone if info.context.tenant else "Asia/Ho_Chi_Minh"
    return info.context.now.astimezone(zone(timezone)).date()
