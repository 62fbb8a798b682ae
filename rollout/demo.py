"""The demo rollout plans for ``handbook``: in Ninh Binh Yen Mo on since its pilot began, wave 1
ramped since it started, the rest of the province staged; in Ha Nam its own plan (Duy Tien
first), independent of Ninh Binh's.

Ninh Binh's plan carries the history the simulated events tell (``adoption.demo_events``): it is
started on the first day of the pilot's month, ten months ago, and wave 1 is advanced on the first
day of the month two months ago (25%), then 21 and 42 days later (50%, 100%), each step at 06:00
in the province's time zone and only once that moment has passed. Each wave-1 step is judged by
the gate on the KPIs it is given; a gate that fails (no adoption data) is overridden with a
written reason, so the audit says so.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.broadcast import notify
from rollout import plans, waves
from rollout.errors import GateFailed
from rollout.flag_catalogue import FlagKey
from rollout.gates import NoAdoptionData
from rollout.kpi import Criterion, KpiSource, Metric
from rollout.snapshot import CHANNEL
from tenants.read_model import province_tenants

ACTOR = "demo"
PILOT = ("yen-mo",)
WAVE_1 = ("hoa-lu", "ninh-binh-city", "kim-son")
GATE = (Criterion(Metric.ACTIVATION_RATE, 0.9), Criterion(Metric.MONTHLY_ACTIVE_RATE, 0.8))
SUSTAIN_DAYS = 14
TIMEZONE = "Asia/Ho_Chi_Minh"
PILOT_MONTHS_AGO = 10
WAVE_1_MONTHS_AGO = 2
WAVE_1_STEP_DAYS = (0, 21, 42)  # 25%, 50%, 100%: adoption.demo_events.WAVE_1_ACCESS
STEP_TIME = dt.time(6)  # before the first simulated use of a day (06:00-22:00)
OVERRIDE = "Demo history: no adoption data to judge the gate when this step was taken."


def _months_before(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def history(now: dt.datetime, timezone: str = TIMEZONE) -> tuple[dt.datetime, list[dt.datetime]]:
    """When the demo pilot started and when each wave-1 step was taken (those not after ``now``)."""
    tz = ZoneInfo(timezone)
    today = now.astimezone(tz).date()
    pilot = dt.datetime.combine(_months_before(today, PILOT_MONTHS_AGO), STEP_TIME, tzinfo=tz)
    wave_1 = _months_before(today, WAVE_1_MONTHS_AGO)
    steps = [
        dt.datetime.combine(wave_1 + dt.timedelta(days=d), STEP_TIME, tzinfo=tz)
        for d in WAVE_1_STEP_DAYS
    ]
    return pilot.astimezone(dt.UTC), [s.astimezone(dt.UTC) for s in steps if s <= now]


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
    kpis: KpiSource | None = None,
) -> str:
    """Create the demo plan once, with its history up to ``now``; a second call leaves it."""
    key = FlagKey.HANDBOOK.value
    started, steps = history(now)
    async with sessionmaker() as session:
        if await plans.get(session=session, province_id=province_id, flag_key=key) is not None:
            return "demo rollout plan present; left as it is"
        rest = await _rest_of_province(session, province_id)
        await plans.create(
            session=session,
            province_id=province_id,
            flag_key=key,
            actor=ACTOR,
            now=started,
            waves=_demo_waves(rest),
        )
        # wave 0 has no gate, so no adoption data is needed to start the pilot
        await _step(session, province_id, waves.Action.START, started, NoAdoptionData())
        judge = kpis or NoAdoptionData()
        for moment in steps:
            await _step(session, province_id, waves.Action.ADVANCE, moment, judge)
        await session.commit()
        await notify(session, CHANNEL, key)
    on = PILOT + (WAVE_1 if steps else ())
    staged = len(PILOT) + len(WAVE_1) + len(rest) - len(on)
    return f"demo rollout plan: handbook on in {', '.join(on)}; {staged} tenants staged"


async def _step(
    session: AsyncSession,
    province_id: str,
    action: waves.Action,
    moment: dt.datetime,
    kpis: KpiSource,
) -> None:
    """One step of the demo's history, judged by ``kpis``; a failing gate is overridden, audited."""
    for override in (None, OVERRIDE):
        try:
            async with session.begin_nested():
                await waves.step_forward(
                    session=session,
                    province_id=province_id,
                    flag_key=FlagKey.HANDBOOK.value,
                    action=action,
                    actor=ACTOR,
                    now=moment,
                    kpis=kpis,
                    override_reason=override,
                )
            return
        except GateFailed:
            if override is not None:
                raise


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
