"""The demo tells one story: the plan's history and the simulated app events agree, for every
tenant of the province, and the current month's uses are spread over its days."""

from __future__ import annotations

import datetime as dt
import statistics
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from adoption.calendar import add_months, month_of
from adoption.demo_events import simulate
from adoption.kpi_source import AdoptionKpis
from adoption.models import AdoptionEvent
from adoption.series import AdoptionPoint, Granularity, series_by_tenant
from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from rollout import demo, plans, snapshot
from rollout.models import AuditEntry
from tenants.demo.load import load_demo
from tenants.demo.province import NINH_BINH
from tests.tenants.test_demo_load import empty_database  # noqa: F401  (the fixture)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
# 20:00 UTC on 4 December is 03:00 on 5 December in the province: its date is the 5th
NOW = dt.datetime(2026, 12, 4, 20, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 5)
STEPS = ("plan.start", "plan.advance")


@pytest.mark.slow
async def test_the_demo_s_plan_and_events_tell_one_story(empty_database) -> None:  # noqa: F811
    # given the demo loaded at 03:00 on 5 December, the province's date (once: a minute's load)
    engine = make_engine(empty_database.app_url)
    sessions = make_sessionmaker(engine)
    await load_demo(sessionmaker=sessions, today=TODAY)
    await simulate(sessionmaker=sessions, today=TODAY, now=NOW)
    message = await demo.load_demo_plan(sessionmaker=sessions, now=NOW, kpis=AdoptionKpis())
    loaded = (sessions, message)
    try:
        # then
        await _events_agree_with_the_plan(loaded)
        await _activation_never_exceeds_the_share_the_plan_gave(loaded)
        await _no_day_of_the_current_month_carries_a_month_s_uses(loaded)
    finally:
        await engine.dispose()


async def _plan_history(sessions):
    """Each tenant's share of members with the handbook over time: [(since, basis points)]."""
    async with sessions() as session:
        view = await plans.get_or_raise(
            session=session, province_id="ninh-binh", flag_key="handbook"
        )
        steps = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.plan_id == view.plan.id, AuditEntry.action.in_(STEPS))
                .order_by(AuditEntry.at)
            )
        ).all()
        rollouts = (await snapshot.load(session=session))["ninh-binh"].flags["handbook"].rollouts
    history: dict[str, list[tuple[dt.datetime, int]]] = {t.slug: [] for t in NINH_BINH.tenants}
    for entry in steps:
        position = (entry.after["wave"], entry.after["step"])
        for wave, tenants in enumerate(view.tenants):
            for tenant in tenants:
                history[tenant].append((entry.at, view.basis_points(wave, position)))
    return history, rollouts


async def _first_event(sessions, tenant: str) -> tuple[dt.datetime | None, int]:
    async with scope_session(sessions(), tenant) as session:
        query = select(func.min(AdoptionEvent.occurred_at), func.count()).where(
            AdoptionEvent.tenant_id == tenant
        )
        first, count = (await session.execute(query)).one()
    return first, count


async def _days(sessions, tenant: str, start: dt.date, end: dt.date) -> list[AdoptionPoint]:
    async with scope_session(sessions(), tenant) as session:
        by_tenant = await series_by_tenant(
            session=session, tenant_ids=[tenant], start=start, end=end, granularity=Granularity.DAY
        )
    return by_tenant[tenant]


async def _events_agree_with_the_plan(loaded) -> None:
    sessions, message = loaded
    history, rollouts = await _plan_history(sessions)
    # then: wave 1 was ramped and is on, the rest of the province is not
    assert message == (
        "demo rollout plan: handbook on in yen-mo, hoa-lu, ninh-binh-city, kim-son; "
        "8 tenants staged"
    )
    on = {tenant for tenant, points in rollouts.items() if points > 0}
    assert on == {"yen-mo", "hoa-lu", "ninh-binh-city", "kim-son"}
    for tenant, steps in history.items():
        first, count = await _first_event(sessions, tenant)
        since = [at for at, points in steps if points > 0]
        if tenant not in on:
            # a tenant the handbook never reached has no app activity at all
            assert (since, count) == ([], 0), tenant
            continue
        # the app's first event comes no earlier than the step that turned the tenant on,
        # and nothing lies after the moment of loading
        assert first is not None, tenant
        assert first >= since[0], tenant
        last = await _last_event(sessions, tenant)
        assert last <= NOW, tenant


async def _last_event(sessions, tenant: str) -> dt.datetime:
    async with scope_session(sessions(), tenant) as session:
        return await session.scalar(
            select(func.max(AdoptionEvent.occurred_at)).where(AdoptionEvent.tenant_id == tenant)
        )


async def _activation_never_exceeds_the_share_the_plan_gave(loaded) -> None:
    sessions, _ = loaded
    history, _ = await _plan_history(sessions)
    for tenant, steps in history.items():
        if not any(points for _, points in steps):
            continue
        points = await _days(sessions, tenant, add_months(month_of(TODAY), -10), TODAY)
        for point in points:
            # then: on each day, the activated share is at most the share the plan had given
            end = dt.datetime.combine(point.end, dt.time.max, tzinfo=TZ)
            given = max([p for at, p in steps if at <= end], default=0) / 10_000
            assert point.activated_members <= given * point.members, (tenant, point.end)


async def _no_day_of_the_current_month_carries_a_month_s_uses(loaded) -> None:
    # four days and three hours of the month are gone
    sessions, _ = loaded
    month = month_of(TODAY)
    previous = add_months(month, -1)
    for tenant in ("yen-mo", "hoa-lu", "ninh-binh-city", "kim-son"):
        before = await _days(sessions, tenant, previous, month - dt.timedelta(days=1))
        now = await _days(sessions, tenant, month, TODAY)
        median = statistics.median(p.uses for p in before)
        # then: no day of this month has more than three times last month's median day
        assert median > 0, tenant
        assert max(p.uses for p in now) <= 3 * median, (tenant, [p.uses for p in now], median)
        assert len(now) == (TODAY - month).days + 1
