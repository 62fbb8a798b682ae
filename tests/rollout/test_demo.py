"""The demo plan: Yen Mo on, every other tenant off, staged in three waves; idempotent."""

from __future__ import annotations

from db.engine import make_engine
from db.sessions import make_sessionmaker
from rollout import demo, plans, snapshot
from rollout.evaluation import EvaluationContext, Reason, evaluate
from rollout.flag_catalogue import FlagKey
from tenants.demo.province import HA_NAM, NINH_BINH, TENANTS
from tenants.models import Tenant
from tests.world import NOW


async def test_demo_plan_starts_with_yen_mo_on_and_the_rest_off(fresh):
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
    await engine.dispose()
    assert first == "demo rollout plan: handbook on in yen-mo; 11 tenants staged"
    assert second == "demo rollout plan present; left as it is"
    assert view.state() == {"status": "running", "wave": 0, "step": 0}
    assert view.tenants[1] == ["hoa-lu", "kim-son", "ninh-binh-city"]
    assert len(view.tenants[2]) == 8
    for tenant in TENANTS:
        result = evaluate(
            current, FlagKey.HANDBOOK.value, EvaluationContext(tenant=tenant.slug, member="m")
        )
        expected = (True, Reason.SPLIT) if tenant.slug == "yen-mo" else (False, Reason.DEFAULT)
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
    assert ninh_binh.state() == {"status": "running", "wave": 0, "step": 0}
    duy_tien = EvaluationContext(tenant="duy-tien", member="m")
    assert evaluate(current["ha-nam"], "handbook", duy_tien).value is False
    assert current["ninh-binh"].flags["handbook"].rollouts == {"yen-mo": 10_000}
