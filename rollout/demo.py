"""The demo rollout plans for ``handbook``: in Ninh Binh Yen Mo on, the rest of the province
staged in waves; in Ha Nam its own plan (Duy Tien first), independent of Ninh Binh's."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.broadcast import notify
from rollout import plans, waves
from rollout.flag_catalogue import FlagKey
from rollout.gates import NoAdoptionData
from rollout.kpi import Criterion, Metric
from rollout.snapshot import CHANNEL
from tenants.read_model import province_tenants

ACTOR = "demo"
PILOT = ("yen-mo",)
WAVE_1 = ("hoa-lu", "ninh-binh-city", "kim-son")
GATE = (Criterion(Metric.ACTIVATION_RATE, 0.9), Criterion(Metric.MONTHLY_ACTIVE_RATE, 0.8))
SUSTAIN_DAYS = 14


async def _rest_of_province(session: AsyncSession, province_id: str) -> list[str]:
    return await _rest_of(session, province_id, PILOT + WAVE_1)


async def _rest_of(session: AsyncSession, province_id: str, staged_: tuple[str, ...]) -> list[str]:
    staged = set(staged_)
    slugs = await province_tenants(session=session, province_id=province_id)
    return [slug for slug in slugs if slug not in staged]


def _demo_waves(rest: list[str]) -> list[plans.WaveSpec]:
    """The pilot, then three districts gated on its adoption, then ``rest`` of the province."""
    return [
        plans.WaveSpec("Yen Mo pilot", PILOT),
        plans.WaveSpec(
            "Hoa Lu, Ninh Binh city, Kim Son",
            WAVE_1,
            ramp=(25, 50, 100),
            gate=GATE,
            sustain_days=SUSTAIN_DAYS,
        ),
        plans.WaveSpec(
            "The rest of the province", rest, ramp=(50, 100), gate=GATE, sustain_days=SUSTAIN_DAYS
        ),
    ]


async def load_demo_plan(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    now: dt.datetime,
    province_id: str = "ninh-binh",
) -> str:
    """Create and start the demo plan once; a second call leaves it as it is."""
    key = FlagKey.HANDBOOK.value
    async with sessionmaker() as session:
        if await plans.get(session=session, province_id=province_id, flag_key=key) is not None:
            return "demo rollout plan present; left as it is"
        rest = await _rest_of_province(session, province_id)
        await plans.create(
            session=session,
            province_id=province_id,
            flag_key=key,
            actor=ACTOR,
            now=now,
            waves=_demo_waves(rest),
        )
        # wave 0 has no gate, so no adoption data is needed to start the pilot
        await waves.step_forward(
            session=session,
            province_id=province_id,
            flag_key=key,
            action=waves.Action.START,
            actor=ACTOR,
            now=now,
            kpis=NoAdoptionData(),
        )
        await session.commit()
        await notify(session, CHANNEL, key)
    return f"demo rollout plan: handbook on in {', '.join(PILOT)}; {3 + len(rest)} tenants staged"


OTHER_PROVINCE = "ha-nam"
OTHER_PILOT = ("duy-tien",)


async def load_other_province_plan(
    *, sessionmaker: async_sessionmaker[AsyncSession], now: dt.datetime
) -> str:
    """Create Ha Nam's own, not yet started plan once: Duy Tien, then the rest of Ha Nam."""
    key = FlagKey.HANDBOOK.value
    async with sessionmaker() as session:
        if await plans.get(session=session, province_id=OTHER_PROVINCE, flag_key=key):
            return "Ha Nam rollout plan present; left as it is"
        rest = await _rest_of(session, OTHER_PROVINCE, OTHER_PILOT)
        waves_ = [plans.WaveSpec("Duy Tien pilot", OTHER_PILOT)]
        if rest:
            waves_.append(plans.WaveSpec("The rest of Ha Nam", rest, gate=GATE))
        await plans.create(
            session=session,
            province_id=OTHER_PROVINCE,
            flag_key=key,
            actor=ACTOR,
            now=now,
            waves=waves_,
        )
        await session.commit()
        await notify(session, CHANNEL, key)
    return f"Ha Nam rollout plan: handbook staged for {1 + len(rest)} tenants, not started"
