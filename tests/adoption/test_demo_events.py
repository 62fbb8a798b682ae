"""The demo's simulated events: Yen Mo's pilot figures come out of the KPI computation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from adoption.demo_events import simulate
from adoption.kpi_source import AdoptionKpis
from adoption.models import AdoptionEvent
from adoption.series import Granularity, series
from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from rollout.kpi import Criterion, Metric
from tenants.demo.load import load_demo
from tests.tenants.test_demo_load import empty_database  # noqa: F401  (the fixture)

TODAY = dt.date(2026, 11, 25)


@pytest.mark.slow
async def test_demo_yen_mo_kpis_show_the_pilot(empty_database) -> None:  # noqa: F811
    # given the demo province with its simulated events, loaded twice
    engine = make_engine(empty_database.app_url)
    sessions = make_sessionmaker(engine)
    await load_demo(sessionmaker=sessions, today=TODAY)
    first = await simulate(sessionmaker=sessions, today=TODAY)
    second = await simulate(sessionmaker=sessions, today=TODAY)

    # when
    async with scope_session(sessions(), "yen-mo") as session:
        months = await series(
            session=session,
            tenant_ids=["yen-mo"],
            start=dt.date(2026, 5, 1),
            end=dt.date(2026, 10, 31),
            granularity=Granularity.MONTH,
        )
        gate = await AdoptionKpis().evaluate_gate(
            session=session,
            tenant_ids=["yen-mo"],
            sustain_days=14,
            as_of=TODAY,
            criteria=[
                Criterion(Metric.ACTIVATION_RATE, 0.9),
                Criterion(Metric.MONTHLY_ACTIVE_RATE, 0.8),
            ],
        )
        stored = await session.scalar(
            select(func.count())
            .select_from(AdoptionEvent)
            .where(AdoptionEvent.tenant_id == "yen-mo")
        )
    async with scope_session(sessions(), "hoa-lu") as session:
        (hoa_lu,) = await series(
            session=session,
            tenant_ids=["hoa-lu"],
            start=dt.date(2026, 10, 1),
            end=dt.date(2026, 10, 31),
            granularity=Granularity.MONTH,
        )
    await engine.dispose()

    # then: more than 90% activated, about 5,413 active each month, more than 20,000 uses
    assert second == {tenant: 0 for tenant in first}
    assert stored == first["yen-mo"]
    for month in months:
        assert month.activation_rate is not None
        assert month.activation_rate > 0.9
        assert 5_300 <= month.active_members <= 5_500
        assert month.uses > 20_000
    assert gate.passed
    assert hoa_lu.activation_rate is not None
    assert 0.2 < hoa_lu.activation_rate < 0.6
