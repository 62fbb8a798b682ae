"""The demo plan: Yen Mo on since its pilot, wave 1 ramped since it started, the rest of the
province off, staged in three waves; its history dated; idempotent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from db.engine import make_engine
from db.sessions import make_sessionmaker
from rollout import demo, plans, snapshot
from rollout.evaluation import EvaluationContext, Reason, evaluate
from rollout.flag_catalogue import FlagKey
from rollout.models import AuditEntry
from tenants.demo.province import HA_NAM, NINH_BINH, TENANTS
from tenants.models import Tenant
from tests.world import NOW


async def test_demo_plan_has_yen_mo_and_wave_1_on_and_the_rest_off(fresh):
    # given: the demo province's tenants (the hand-made world has two of them)
    engine = make_engine(fresh.app_url)
    maker = make_sessionmaker(engine)
    async with maker() as session:
        for tenant in TENANTS:
            if await session.get(Tenant, tenant.slug) is None:
                session.add(
                    Tenant(
                        id=tenant.slug,
                        province_id="ninh-binh",
                        name=tenant.name,
                        kind=tenant.kind.value,
                    )
                )
        await session.commit()
    # when
    first = await demo.load_demo_plan(sessionmaker=maker, now=NOW)
    second = await demo.load_demo_plan(sessionmaker=maker, now=NOW)
    # then
    async with maker() as session:
        view = await plans.get_or_raise(
            session=session, province_id="ninh-binh", flag_key="handbook"
        )
        current = (await snapshot.load(session=session))["ninh-binh"]
        steps = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.in_(("plan.start", "plan.advance")))
                .where(AuditEntry.plan_id == view.plan.id)
                .order_by(AuditEntry.at)
            )
        ).all()
    await engine.dispose()
    assert first == (
        "demo rollout plan: handbook on in yen-mo, hoa-lu, ninh-binh-city, kim-son; "
        "8 tenants staged"
    )
    assert second == "demo rollout plan present; left as it is"
    assert view.state() == {"status": "running", "wave": 1, "step": 2}
    # the history: 06:00 in the province on the pilot's first day, then wave 1's three steps;
    # without adoption data wave 1's gate fails and is overridden with a written reason
    local = [(e.at.astimezone(demo.ZoneInfo(demo.TIMEZONE)), e.after, e.reason) for e in steps]
    assert [
        (at.date().isoformat(), at.hour, after["wave"], after["step"]) for at, after, _ in local
    ] == [
        ("2026-01-01", 6, 0, 0),
        ("2026-09-01", 6, 1, 0),
        ("2026-09-22", 6, 1, 1),
        ("2026-10-13", 6, 1, 2),
    ]
    # only entering wave 1 is judged by its gate (a ramp step within a wave is not)
    assert [reason for _, _, reason in local] == ["", demo.OVERRIDE, "", ""]
    assert view.tenants[1] == ["hoa-lu", "kim-son", "ninh-binh-city"]
    assert len(view.tenants[2]) == 8
    for tenant in TENANTS:
        result = evaluate(
            current, FlagKey.HANDBOOK.value, EvaluationContext(tenant=tenant.slug, member="m")
        )
        on = tenant.slug in demo.PILOT + demo.WAVE_1
        expected = (True, Reason.SPLIT) if on else (False, Reason.DEFAULT)
        assert (result.value, result.reason) == expected, tenant.slug


async def test_ha_nam_has_its_own_plan_beside_ninh_binh(fresh):
    # given: both demo provinces' tenants (the hand-made world has some) and Ninh Binh's plan
    engine = make_engine(fresh.app_url)
    maker = make_sessionmaker(engine)
    async with maker() as session:
        for province, tenant in [(p, t) for p in (NINH_BINH, HA_NAM) for t in p.tenants]:
            if await session.get(Tenant, tenant.slug) is None:
                session.add(
                    Tenant(
                        id=tenant.slug,
                        province_id=province.id,
                        name=tenant.name,
                        kind=tenant.kind.value,
                    )
                )
        await session.commit()
    await demo.load_demo_plan(sessionmaker=maker, now=NOW)
    # when
    first = await demo.load_other_province_plan(sessionmaker=maker, now=NOW)
    second = await demo.load_other_province_plan(sessionmaker=maker, now=NOW)
    # then: Ha Nam's plan is its own, not started; Ninh Binh's handbook still runs
    async with maker() as session:
        ha_nam = await plans.get_or_raise(
            session=session, province_id="ha-nam", flag_key="handbook"
        )
        ninh_binh = await plans.get_or_raise(
            session=session, province_id="ninh-binh", flag_key="handbook"
        )
        current = await snapshot.load(session=session)
    await engine.dispose()
    assert first == "Ha Nam rollout plan: handbook staged for 3 tenants, not started"
    assert second == "Ha Nam rollout plan present; left as it is"
    assert ha_nam.tenants == [["duy-tien"], ["kim-bang", "thanh-liem"]]
    assert ha_nam.state() == {"status": "draft", "wave": -1, "step": -1}
    assert ninh_binh.state() == {"status": "running", "wave": 1, "step": 2}
    duy_tien = EvaluationContext(tenant="duy-tien", member="m")
    assert evaluate(current["ha-nam"], "handbook", duy_tien).value is False
    assert current["ninh-binh"].flags["handbook"].rollouts == {
        slug: 10_000 for slug in demo.PILOT + demo.WAVE_1
    }


def test_the_history_is_placed_by_the_province_s_date():
    # given 23:30 UTC on 30 November: already 06:30 on 1 December in the province (UTC+7)
    now = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)
    tz = demo.ZoneInfo(demo.TIMEZONE)
    # when
    started, steps = demo.history(now)
    # then: months are counted from December, not from the UTC date's November; every step
    # lies before ``now``
    assert started == dt.datetime(2026, 2, 1, 6, tzinfo=tz)
    assert [s.astimezone(tz) for s in steps] == [
        dt.datetime(2026, 10, 1, 6, tzinfo=tz),
        dt.datetime(2026, 10, 22, 6, tzinfo=tz),
        dt.datetime(2026, 11, 12, 6, tzinfo=tz),
    ]
    assert all(s <= now for s in steps)
