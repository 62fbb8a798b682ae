"""Rebuilding rollups from events gives what the incremental path kept; gates read rollups."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from adoption import rollups, service
from adoption.calendar import zone
from adoption.kpi_source import AdoptionKpis
from adoption.models import ROLLUP_TABLES, AdoptionMonthly
from rollout.kpi import Criterion, Metric, WeeklyActive
from tests.adoption.conftest import INSTALL_KEY, Sessions, ev, install_token, utc
from tests.world import (
    KIM_SON,
    KS_MEMBER,
    KS_SECRETARY,
    YEN_MO,
    YM_MEMBER_A,
    YM_MEMBER_A2,
    YM_MEMBER_B,
    YM_SECRETARY_A,
)

TZ = "Asia/Ho_Chi_Minh"
NOW = utc("2026-03-20T00:00:00+00:00")


async def _snapshot(session: AsyncSession) -> dict[str, list[Any]]:
    result = {}
    for model in ROLLUP_TABLES:
        columns = list(model.__table__.columns)
        rows = await session.execute(
            select(*columns).where(model.tenant_id == YEN_MO).order_by(*columns)
        )
        result[model.__tablename__] = [tuple(r) for r in rows]
    return result


async def _history(sessions: Sessions) -> None:
    """Three members over January–March, with a late login and a retry."""
    batches = [
        (
            YM_MEMBER_A,
            [
                ev("app_installed", "2026-01-02T01:00:00Z", installToken=install_token()),
                ev("login", "2026-01-02T01:01:00Z"),
                ev("session_started", "2026-01-31T23:30:00Z"),
            ],
        ),
        (
            YM_MEMBER_B,
            [ev("login", "2026-02-14T10:00:00Z"), ev("session_started", "2026-03-01T03:00:00Z")],
        ),
        (
            YM_MEMBER_A,
            [ev("session_started", "2026-03-02T03:00:00Z"), ev("login", "2026-03-02T03:00:00Z")],
        ),
        (YM_MEMBER_B, [ev("login", "2026-01-20T10:00:00Z")]),  # late, earlier activation
        (YM_MEMBER_A2, [ev("session_started", "2026-03-05T03:00:00Z", device="p2")]),
    ]
    for member, events in batches:
        for _ in range(2):  # every batch is retried
            async with sessions(YEN_MO) as session:
                await service.ingest(
                    session=session,
                    tenant_id=YEN_MO,
                    timezone=TZ,
                    member_id=member,
                    events=events,
                    now=NOW,
                    install_key=INSTALL_KEY,
                )
                await session.commit()


async def test_rebuild_equals_the_incremental_path(sessions: Sessions) -> None:
    # given rollups kept incrementally
    await _history(sessions)
    async with sessions(YEN_MO) as session:
        incremental = await _snapshot(session)

        # when rebuilt from all events, then from March only
        read_all = await rollups.rebuild(session, tenant_id=YEN_MO, tz=zone(TZ))
        rebuilt = await _snapshot(session)
        read_march = await rollups.rebuild(
            session, tenant_id=YEN_MO, tz=zone(TZ), since=dt.date(2026, 3, 9)
        )
        rebuilt_march = await _snapshot(session)

    # then
    assert (read_all, read_march) == (9, 4)
    assert rebuilt == incremental
    assert rebuilt_march == incremental
    assert incremental["adoption_activations"] == [
        (YEN_MO, YM_MEMBER_A, dt.date(2026, 1, 2)),
        (YEN_MO, YM_MEMBER_B, dt.date(2026, 1, 20)),
    ]
    assert [(m, a, s) for _, m, a, s in incremental["adoption_monthly"]] == [
        (dt.date(2026, 1, 1), 2, 0),
        (dt.date(2026, 2, 1), 2, 1),
        (dt.date(2026, 3, 1), 3, 3),
    ]


async def test_rebuild_reads_events_in_chunks_and_reports_each(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given rollups kept incrementally from 9 events, and chunks of 4
    await _history(sessions)
    monkeypatch.setattr(rollups, "REBUILD_CHUNK", 4)
    reported: list[int] = []
    async with sessions(YEN_MO) as session:
        incremental = await _snapshot(session)

        # when
        read = await rollups.rebuild(
            session, tenant_id=YEN_MO, tz=zone(TZ), progress=reported.append
        )
        rebuilt = await _snapshot(session)

    # then
    assert (read, reported) == (9, [4, 4, 1])
    assert rebuilt == incremental


@pytest.mark.parametrize("since", [None, dt.date(2026, 2, 9), dt.date(2026, 6, 1)])
async def test_a_rebuild_month_by_month_equals_the_one_shot_rebuild(
    sessions: Sessions, since: dt.date | None
) -> None:
    # given rollups kept incrementally, and stale rows in a month without events
    await _history(sessions)
    async with sessions(YEN_MO) as session:
        incremental = await _snapshot(session)
        await rollups.rebuild(session, tenant_id=YEN_MO, tz=zone(TZ), since=since)
        one_shot = await _snapshot(session)
        session.add(AdoptionMonthly(tenant_id=YEN_MO, month=dt.date(2026, 7, 1), sessions=5))
        await session.commit()
    reported: list[int] = []

    # when
    read = await rollups.rebuild_in_chunks(
        lambda: sessions(YEN_MO),
        tenant_id=YEN_MO,
        tz=zone(TZ),
        since=since,
        progress=reported.append,
    )

    # then
    async with sessions(YEN_MO) as session:
        chunked = await _snapshot(session)
    assert chunked == one_shot == incremental
    assert read == sum(reported) == {None: 9, dt.date(2026, 2, 9): 6, dt.date(2026, 6, 1): 0}[since]


class _UniqueViolation(Exception):
    sqlstate = "23505"


async def test_a_month_a_concurrent_ingest_broke_is_rebuilt_again(
    sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given rollups kept incrementally, and a first attempt at a month that a batch breaks
    await _history(sessions)
    async with sessions(YEN_MO) as session:
        incremental = await _snapshot(session)
    load_tally, broken = rollups._load_tally, []

    async def racing(session: AsyncSession, tenant_id: str, tally: Any) -> None:
        await load_tally(session, tenant_id, tally)
        if not broken:
            broken.append(True)
            raise IntegrityError("INSERT INTO adoption_member_days", {}, _UniqueViolation())

    monkeypatch.setattr(rollups, "_load_tally", racing)
    reported: list[int] = []

    # when
    read = await rollups.rebuild_in_chunks(
        lambda: sessions(YEN_MO), tenant_id=YEN_MO, tz=zone(TZ), progress=reported.append
    )

    # then: the month was recomputed whole, and heard once
    async with sessions(YEN_MO) as session:
        assert await _snapshot(session) == incremental
    assert broken == [True]
    assert read == sum(reported) == 9


@pytest.mark.parametrize("reader", [YEN_MO, None], ids=["tenant-session", "province-session"])
async def test_gate_and_weekly_change_from_rollups(sessions: Sessions, reader: str | None) -> None:
    """Rollout reads the KPIs from a province-level session (a province admin's request, the
    scheduler) as well as from the tenant's own."""
    # given 4 of 5 members logging in on 10 March; 2 of them again on 18 March
    for member in (YM_MEMBER_A, YM_MEMBER_A2, YM_MEMBER_B, YM_SECRETARY_A):
        async with sessions(YEN_MO) as session:
            await service.ingest(
                session=session,
                tenant_id=YEN_MO,
                timezone=TZ,
                member_id=member,
                events=[ev("login", "2026-03-10T03:00:00Z")],
                now=NOW,
                install_key=INSTALL_KEY,
            )
            if member in (YM_MEMBER_A, YM_MEMBER_B):
                await service.ingest(
                    session=session,
                    tenant_id=YEN_MO,
                    timezone=TZ,
                    member_id=member,
                    events=[ev("session_started", "2026-03-18T03:00:00Z")],
                    now=NOW,
                    install_key=INSTALL_KEY,
                )
            await session.commit()
    kpis = AdoptionKpis()

    # when
    async with sessions(reader) as session:
        gate = await kpis.evaluate_gate(
            session=session,
            tenant_ids=[YEN_MO],
            sustain_days=10,
            as_of=dt.date(2026, 3, 19),
            criteria=[
                Criterion(Metric.ACTIVATION_RATE, 0.8),
                Criterion(Metric.MONTHLY_ACTIVE_RATE, 0.9),
            ],
        )
        weekly = await kpis.weekly_active_members(
            session=session, tenant_ids=[YEN_MO], as_of=dt.date(2026, 3, 19)
        )
        empty = await kpis.weekly_active_members(
            session=session, tenant_ids=[YEN_MO], as_of=dt.date(2026, 1, 19)
        )

    # then activation 4/5 held from 10 to 19 March (10 days); monthly active 4/5 < 0.9
    activation, monthly = gate.results
    assert (activation.current, activation.days_held, activation.passed) == (0.8, 10, True)
    assert (monthly.current, monthly.days_held, monthly.passed) == (0.8, 0, False)
    assert gate.passed is False
    # 13–19 March: 2 active; 6–12 March: 4 active
    assert weekly == {YEN_MO: WeeklyActive(recent=2, earlier=4)}
    assert weekly[YEN_MO].change == -0.5
    assert empty == {YEN_MO: WeeklyActive(0, 0)}
    assert empty[YEN_MO].change is None


async def test_gate_judges_each_tenant_of_a_wave_on_its_own(sessions: Sessions) -> None:
    # given Kim Son's two members logging in on 5 March, and one of Yen Mo's five on 15 March
    logins = [
        (KIM_SON, KS_MEMBER, "2026-03-05T03:00:00Z"),
        (KIM_SON, KS_SECRETARY, "2026-03-05T04:00:00Z"),
        (YEN_MO, YM_MEMBER_A, "2026-03-15T03:00:00Z"),
    ]
    for tenant, member, at in logins:
        async with sessions(tenant) as session:
            await service.ingest(
                session=session,
                tenant_id=tenant,
                timezone=TZ,
                member_id=member,
                events=[ev("login", at)],
                now=NOW,
                install_key=INSTALL_KEY,
            )
            await session.commit()

    # when both tenants are judged together, from a province-level session
    async with sessions(None) as session:
        gate = await AdoptionKpis().evaluate_gate(
            session=session,
            tenant_ids=[KIM_SON, YEN_MO],
            sustain_days=10,
            as_of=dt.date(2026, 3, 19),
            criteria=[
                Criterion(Metric.ACTIVATION_RATE, 0.5),
                Criterion(Metric.MONTHLY_ACTIVE_RATE, 0.5),
            ],
        )

    # then Kim Son held both criteria for the 10 days; Yen Mo (1 of 5) neither
    assert [(r.tenant_id, r.metric, r.current, r.days_held, r.passed) for r in gate.results] == [
        (KIM_SON, Metric.ACTIVATION_RATE, 1.0, 10, True),
        (KIM_SON, Metric.MONTHLY_ACTIVE_RATE, 1.0, 10, True),
        (YEN_MO, Metric.ACTIVATION_RATE, 0.2, 0, False),
        (YEN_MO, Metric.MONTHLY_ACTIVE_RATE, 0.2, 0, False),
    ]
    assert gate.passed is False


async def test_activation_days_are_each_tenants_curve_from_a_province_session(
    sessions: Sessions,
) -> None:
    # given Kim Son's two members activating on 5 and 7 March, one of Yen Mo's five on 6 March
    logins = [
        (KIM_SON, KS_MEMBER, "2026-03-05T03:00:00Z"),
        (YEN_MO, YM_MEMBER_A, "2026-03-06T03:00:00Z"),
        (KIM_SON, KS_SECRETARY, "2026-03-07T04:00:00Z"),
        (KIM_SON, KS_MEMBER, "2026-03-08T04:00:00Z"),  # a second login activates nobody
    ]
    for tenant, member, at in logins:
        async with sessions(tenant) as session:
            await service.ingest(
                session=session,
                tenant_id=tenant,
                timezone=TZ,
                member_id=member,
                events=[ev("login", at)],
                now=NOW,
                install_key=INSTALL_KEY,
            )
            await session.commit()

    # when both curves are read together, from a province-level session
    async with sessions(None) as session:
        curves = await AdoptionKpis().activation_days(
            session=session,
            tenant_ids=[KIM_SON, YEN_MO],
            first=dt.date(2026, 3, 6),
            last=dt.date(2026, 3, 8),
        )

    # then: each day's activated members (those before the first day included) and members
    assert {t: [(d.day.day, d.activated, d.members) for d in c] for t, c in curves.items()} == {
        KIM_SON: [(6, 1, 2), (7, 2, 2), (8, 2, 2)],
        YEN_MO: [(6, 1, 5), (7, 1, 5), (8, 1, 5)],
    }
