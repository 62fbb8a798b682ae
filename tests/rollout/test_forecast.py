"""The wave forecast on both databases: dates from a known curve, and no date without data."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from rollout import bass, forecast, plans, waves
from rollout.forecast import Unavailable
from rollout.kpi import ActivationDay, Criterion, Metric
from rollout.waves import Action
from tests.rollout.fakes import FakeKpiSource
from tests.rollout.plan_world import ADMIN, KEY, add_tenants, make_plan
from tests.world import KIM_SON, NOW, YEN_MO

TODAY = dt.date(2026, 11, 25)  # NOW in Ninh Binh
P, Q = 0.005, 0.05
MEMBERS = 6_000


def curve(days_on: int, *, p: float = P, q: float = Q) -> list[ActivationDay]:
    """A tenant turned on ``days_on`` days ago whose activation follows F exactly."""
    start = TODAY - dt.timedelta(days=days_on)
    return [
        ActivationDay(
            start + dt.timedelta(days=t),
            round(MEMBERS * bass.share(p, q, t)) if t > 0 else 0,
            MEMBERS,
        )
        for t in range(-10, days_on + 1)
    ]


async def start(session, kpis):
    await waves.step_forward(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        action=Action.START,
        actor=ADMIN,
        now=NOW,
        kpis=kpis,
    )


async def forecast_of(session, kpis):
    return await forecast.forecast(
        session=session, province_id="ninh-binh", flag_key=KEY, kpis=kpis, now=NOW
    )


async def test_a_running_plan_forecasts_each_next_wave_from_the_pilot_curve(session):
    # given: the pilot on for 45 days, its activation following p = 0.012, q = 0.09
    kpis = FakeKpiSource(curves={YEN_MO: curve(45)})
    await make_plan(session)
    await start(session, kpis)
    # when
    found = await forecast_of(session, kpis)
    # then: the fit finds the curve's coefficients
    assert found is not None
    assert found.reason is None
    assert found.fit is not None
    assert found.fit.p == pytest.approx(P, rel=0.02)
    assert found.fit.q == pytest.approx(Q, rel=0.02)
    assert found.days_observed == 45
    # wave 1's gate: Yen Mo reaches 90% when the curve does, counted from its start
    wave_1, wave_2 = found.waves
    activation, monthly = wave_1.criteria
    t90 = bass.days_to(P, Q, 0.9)
    assert t90 is not None
    expected = TODAY + dt.timedelta(days=math.ceil(t90 - 45))
    assert activation.metric is Metric.ACTIVATION_RATE
    assert activation.reason is None
    assert activation.date is not None
    assert abs((activation.date - expected).days) <= 1
    assert activation.earliest <= activation.date <= activation.latest
    assert (monthly.metric, monthly.date, monthly.reason) == (
        Metric.MONTHLY_ACTIVE_RATE,
        None,
        Unavailable.NOT_MODELLED,
    )
    assert wave_1.opens is not None
    assert abs((wave_1.opens - (expected + dt.timedelta(days=14))).days) <= 1
    # wave 2's gate: Kim Son starts when wave 1's gate opens and then needs the whole curve
    kim_son_done = wave_1.opens + dt.timedelta(days=math.ceil(t90))
    assert wave_2.criteria[0].date is not None
    assert abs((wave_2.criteria[0].date - kim_son_done).days) <= 1
    assert wave_2.opens == wave_2.criteria[0].date + dt.timedelta(days=14)


async def test_a_tenant_already_on_moves_along_the_curve_from_its_own_share(session):
    # given: wave 1 on too, Kim Son 30 days in on a faster curve than the pilot's
    kpis = FakeKpiSource(curves={YEN_MO: curve(60), KIM_SON: curve(30, q=0.1)})
    await make_plan(session)
    await start(session, kpis)
    await waves.step_forward(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        action=Action.ADVANCE,
        actor=ADMIN,
        now=NOW,
        kpis=kpis,
    )
    # when
    found = await forecast_of(session, kpis)
    # then: only wave 2 is next; Kim Son, at F_fast(30), needs what the pooled curve needs from
    # that share on, and Yen Mo is slower still
    assert found is not None
    assert found.fit is not None
    (wave_2,) = found.waves
    assert wave_2.position == 2
    slowest = max(
        found.fit.days_to(0.9) - found.fit.days_to(bass.share(P, Q, 60)),
        found.fit.days_to(0.9) - found.fit.days_to(bass.share(P, 0.1, 30)),
    )
    date = wave_2.criteria[0].date
    assert date is not None
    assert abs((date - (TODAY + dt.timedelta(days=math.ceil(slowest)))).days) <= 1


@pytest.mark.parametrize(
    ("curves", "reason", "days"),
    [
        ({}, Unavailable.NO_ACTIVATION, 0),
        ({YEN_MO: [ActivationDay(TODAY, 0, MEMBERS)]}, Unavailable.NO_ACTIVATION, 0),
        ({YEN_MO: curve(10)}, Unavailable.TOO_FEW_DAYS, 10),
    ],
    ids=["no-curve", "nobody-activated", "ten-days"],
)
async def test_too_little_data_gives_no_forecast_and_says_why(session, curves, reason, days):
    # given
    kpis = FakeKpiSource(curves=curves)
    await make_plan(session)
    await start(session, kpis)
    # when
    found = await forecast_of(session, kpis)
    # then: no made-up date
    assert found == forecast.PlanForecast(None, days, (), reason)


async def test_a_plan_not_running_has_no_forecast(session):
    kpis = FakeKpiSource(curves={YEN_MO: curve(45)})
    await make_plan(session)  # a draft
    found = await forecast_of(session, kpis)
    assert found == forecast.PlanForecast(None, 0, (), Unavailable.NOT_RUNNING)


async def test_a_flag_without_a_plan_has_no_forecast(session):
    assert await forecast_of(session, FakeKpiSource()) is None


async def test_a_full_threshold_is_unreachable_and_later_waves_have_no_start(session):
    # given: wave 1 gated on 100% activation
    await add_tenants(session)
    full = (Criterion(Metric.ACTIVATION_RATE, 1.0),)
    await plans.create(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        waves=[
            plans.WaveSpec("pilot", [YEN_MO]),
            plans.WaveSpec("wave 1", [KIM_SON], gate=full),
            plans.WaveSpec("wave 2", ["hoa-lu"], gate=(Criterion(Metric.ACTIVATION_RATE, 0.8),)),
        ],
        actor=ADMIN,
        now=NOW,
    )
    kpis = FakeKpiSource(curves={YEN_MO: curve(45)})
    await start(session, kpis)
    # when
    found = await forecast_of(session, kpis)
    # then
    assert found is not None
    wave_1, wave_2 = found.waves
    assert (wave_1.criteria[0].date, wave_1.criteria[0].reason) == (None, Unavailable.UNREACHABLE)
    assert wave_1.opens is None
    assert (wave_2.criteria[0].date, wave_2.criteria[0].reason) == (
        None,
        Unavailable.START_UNKNOWN,
    )


async def test_an_earliest_start_delays_the_later_waves(session):
    # given: wave 1 may not start before 200 days from now
    await add_tenants(session)
    gate = (Criterion(Metric.ACTIVATION_RATE, 0.8),)
    later = NOW + dt.timedelta(days=200)
    await plans.create(
        session=session,
        province_id="ninh-binh",
        flag_key=KEY,
        waves=[
            plans.WaveSpec("pilot", [YEN_MO]),
            plans.WaveSpec("wave 1", [KIM_SON], gate=gate, earliest_start=later),
            plans.WaveSpec("wave 2", ["hoa-lu"], gate=gate),
        ],
        actor=ADMIN,
        now=NOW,
    )
    kpis = FakeKpiSource(curves={YEN_MO: curve(45)})
    await start(session, kpis)
    # when
    found = await forecast_of(session, kpis)
    # then: Kim Son starts at the earliest start, then needs the curve's 80% days
    assert found is not None
    t80 = bass.days_to(P, Q, 0.8)
    assert t80 is not None
    expected = TODAY + dt.timedelta(days=200 + math.ceil(t80))
    date = found.waves[1].criteria[0].date
    assert date is not None
    assert abs((date - expected).days) <= 1
