"""A plan over the test province, with three more tenants added inside the test's transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from rollout import flags, plans
from rollout.flag_catalogue import FlagKey
from rollout.kpi import Criterion, Metric
from tenants.models import Tenant
from tests.world import KIM_SON, NOW, YEN_MO, YM_BRANCH_A

KEY = FlagKey.HANDBOOK.value
HOA_LU, NHO_QUAN, GIA_VIEN = "hoa-lu", "nho-quan", "gia-vien"
ADMIN, SECOND_ADMIN = "province-admin-1", "province-admin-2"
GATE = (Criterion(Metric.ACTIVATION_RATE, 0.9), Criterion(Metric.MONTHLY_ACTIVE_RATE, 0.8))


async def add_tenants(session: AsyncSession) -> None:
    for slug in (HOA_LU, NHO_QUAN, GIA_VIEN):
        session.add(Tenant(id=slug, province_id="ninh-binh", name=slug, kind="district"))
    await session.flush()


async def make_plan(session: AsyncSession) -> plans.PlanView:
    """Five tenants: Yen Mo (1) → Kim Son at 50 → 100% (2) → the other three (last wave)."""
    await add_tenants(session)
    view = await plans.create(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        waves=[
            plans.WaveSpec("pilot", [YEN_MO]),
            plans.WaveSpec("wave 1", [KIM_SON], ramp=(50, 100), gate=GATE, sustain_days=14),
            plans.WaveSpec("the rest", [HOA_LU, NHO_QUAN, GIA_VIEN], gate=GATE, sustain_days=14),
        ],
        actor=ADMIN,
        now=NOW,
    )
    await session.commit()
    return view


async def notices_for_branch_a(session: AsyncSession) -> None:
    """``handbook.notices`` off by default and on for Yen Mo's branch A (a rule on branch)."""
    await flags.ensure(
        session=session,
        province_id="ninh-binh",
        key=FlagKey.NOTICES.value,
        actor=ADMIN,
        now=NOW,
        default_variant="off",
    )
    await flags.set_rules(
        session=session,
        province_id="ninh-binh",
        key=FlagKey.NOTICES.value,
        rules=[({"branch": [str(YM_BRANCH_A)]}, "on")],
        expected_version=1,
        actor=ADMIN,
        reason="branch A pilots notices",
        now=NOW,
    )
