"""A running plan and a KPI source whose weekly active members the test sets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from rollout import waves
from rollout.kpi import NOBODY, WeeklyActive
from rollout.waves import Action
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.plan_world import ADMIN, KEY, make_plan
from tests.world import KIM_SON, NOW, YEN_MO

# Yen Mo holds; Kim Son fell from 1,200 to 696 weekly active members (-42%)
KIM_SON_FELL = {YEN_MO: WeeklyActive(5_000, 5_100), KIM_SON: WeeklyActive(696, 1_200)}


@dataclass
class CountingKpis(FakeKpiSource):
    """Gates pass; weekly active members are what the test sets per tenant."""

    weekly: dict[str, WeeklyActive] = field(default_factory=dict)
    counted: list[tuple[tuple[str, ...], dt.date]] = field(default_factory=list)

    async def weekly_active_members(
        self, *, session: AsyncSession, tenant_ids: Sequence[str], as_of: dt.date
    ) -> dict[str, WeeklyActive]:
        self.counted.append((tuple(tenant_ids), as_of))
        return {t: self.weekly.get(t, NOBODY) for t in tenant_ids}


async def running_in_wave_1(session: AsyncSession, kpis: FakeKpiSource) -> None:
    """The five-tenant plan running with Yen Mo at 100% and Kim Son at 50%."""
    await make_plan(session)
    for action in (Action.START, Action.ADVANCE):
        await waves.step_forward(
            session=session,
            province_id="ninh-binh",
            flag_key=KEY,
            action=action,
            actor=ADMIN,
            now=NOW,
            kpis=kpis,
        )
    await session.commit()
