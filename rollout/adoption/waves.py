"""The waves of a flag's rollout plan, read through rollout's plan service."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from rollout import plans
from rollout.adoption.errors import FlagPlanNotFound


@dataclass(frozen=True, slots=True)
class WaveTenants:
    position: int
    name: str
    tenant_ids: tuple[str, ...]


async def waves_of_or_raise(
    *, session: AsyncSession, province_id: str, flag: str
) -> list[WaveTenants]:
    """The province's plan's waves in order, each with its tenants; raises
    :class:`FlagPlanNotFound`."""
    view = await plans.get(session=session, province_id=province_id, flag_key=flag)
    if view is None:
        raise FlagPlanNotFound(flag)
    return [
        WaveTenants(wave.position, wave.name, tuple(tenants))
        for wave, tenants in zip(view.waves, view.tenants, strict=True)
    ]
