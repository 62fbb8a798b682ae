"""Adoption by wave of a flag's plan: rollout's plan names the waves, adoption reads their KPIs.

Shared by ``adoptionByWave`` and the CSV export (``GET /v1/adoption.csv?by=wave``), so both
answer the same figures.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from adoption import read_model, series
from rollout import plans
from rollout.errors import PlanNotFound


async def plan_wave_series(
    *,
    session: AsyncSession,
    province_id: str,
    flag: str,
    start: dt.date,
    end: dt.date,
    granularity: series.Granularity,
) -> list[read_model.WaveSeries]:
    """Each wave of the province's plan for ``flag`` with its KPI points; PlanNotFound if none."""
    view = await plans.get(session=session, province_id=province_id, flag_key=flag)
    if view is None:
        raise PlanNotFound(flag)
    waves = [
        read_model.WaveTenants(wave.position, wave.name, tuple(tenants))
        for wave, tenants in zip(view.waves, view.tenants, strict=True)
    ]
    return await read_model.wave_series(
        session=session,
        province_id=province_id,
        waves=waves,
        start=start,
        end=end,
        granularity=granularity,
    )
