"""The demo plan: Yen Mo on, every other tenant off, staged in three waves; idempotent."""

from __future__ import annotations

from rollout import demo, plans, snapshot
from rollout.evaluation import EvaluationContext, Reason, evaluate
from rollout.registry import FlagKey
from tenants.db import make_engine, make_sessionmaker
from tenants.demo.province import TENANTS
from tenants.models import Tenant
from tests.world import NOW


async def test_demo_plan_starts_with_yen_mo_on_and_the_rest_off(fresh):
    # given: the demo province's tenants (the hand-made world has two of them)
    engine = make_engine(fresh.app_url)
    maker = make_sessionmaker(engine)
    async with maker() as session:
        for tenant in TENANTS:
            if await session.get(Tenant, tenant.slug) is None:
                session.add(Tenant(id=tenant.slug, province_id="ninh-binh", name=tenant.name,
                                   kind=tenant.kind.value))  # fmt: skip
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
