"""Storage: monthly partitions on PostgreSQL, row-level security and the province path."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from adoption import service
from adoption.models import AdoptionDaily, AdoptionEvent, AdoptionMemberCount
from adoption.partitions import ensure_partitions
from adoption.scope import enter_province
from tenants.handbook.models import Member
from tests import databases
from tests.adoption.conftest import INSTALL_KEY, Sessions, ev, utc
from tests.world import KIM_SON, KS_MEMBER, YEN_MO

NOW = utc("2026-02-10T00:00:00+00:00")


async def _kim_son_session(sessions: Sessions) -> None:
    async with sessions(KIM_SON) as session:
        await service.ingest(
            session=session,
            tenant_id=KIM_SON,
            timezone="Asia/Ho_Chi_Minh",
            member_id=KS_MEMBER,
            events=[ev("session_started", "2026-01-05T02:00:00Z")],
            now=NOW,
            install_key=INSTALL_KEY,
        )
        await session.commit()


def _postgres_only(database: databases.TestDatabase) -> None:
    if database.backend != "postgresql":
        pytest.skip("row-level security and partitions are PostgreSQL's")


async def test_events_land_in_monthly_partitions(
    database: databases.TestDatabase, sessions: Sessions
) -> None:
    _postgres_only(database)
    # given
    await _kim_son_session(sessions)

    # when
    async with sessions(KIM_SON) as session:
        partition = await session.scalar(
            text("SELECT tableoid::regclass::text FROM adoption_events WHERE tenant_id = 'kim-son'")
        )
        created = await ensure_partitions(
            session, first=utc("2031-03-05T00:00:00+00:00"), last=utc("2031-04-30T00:00:00+00:00")
        )
        again = await ensure_partitions(
            session, first=utc("2031-03-05T00:00:00+00:00"), last=utc("2031-04-30T00:00:00+00:00")
        )
        forced = await session.scalar(
            text(
                "SELECT relforcerowsecurity FROM pg_class WHERE relname = 'adoption_events_2031_04'"
            )
        )

    # then
    assert partition == "adoption_events_2026_01"
    assert (created, again) == (2, 0)
    assert forced is True


async def test_a_tenant_reads_no_other_tenants_rows_without_the_province_path(
    database: databases.TestDatabase, sessions: Sessions
) -> None:
    _postgres_only(database)
    # given a Kim Son session stored
    await _kim_son_session(sessions)
    daily = (
        select(func.count()).select_from(AdoptionDaily).where(AdoptionDaily.tenant_id == KIM_SON)
    )
    events = (
        select(func.count()).select_from(AdoptionEvent).where(AdoptionEvent.tenant_id == KIM_SON)
    )

    # when Yen Mo's session reads Kim Son's rows, then through the province path
    async with sessions(YEN_MO) as session:
        direct = await session.scalar(daily)
        await enter_province(session, "ninh-binh")
        province_rollups = await session.scalar(daily)
        province_events = await session.scalar(events)

    # then RLS hides them; the province path shows rollups, never raw events
    assert (direct, province_rollups, province_events) == (0, 1, 0)


async def test_the_province_path_cannot_write(
    database: databases.TestDatabase, sessions: Sessions
) -> None:
    _postgres_only(database)
    # given a session on the province path
    async with sessions(None) as session:
        await enter_province(session, "ninh-binh")

        # when it writes a rollup row, then the tenant policy refuses it
        session.add(
            AdoptionDaily(tenant_id=KIM_SON, day=dt.date(2026, 1, 1), active_members=1, sessions=1)
        )
        with pytest.raises(DBAPIError, match="row-level security"):
            await session.flush()


async def test_member_counts_are_isolated_and_read_through_the_province_path(
    database: databases.TestDatabase, sessions: Sessions
) -> None:
    _postgres_only(database)
    counts = (
        select(func.sum(AdoptionMemberCount.members))
        .select_from(AdoptionMemberCount)
        .where(AdoptionMemberCount.tenant_id == KIM_SON)
    )
    # when Yen Mo's session reads Kim Son's member counts, then through the province path
    async with sessions(YEN_MO) as session:
        direct = await session.scalar(counts)
        await enter_province(session, "ninh-binh")
        province = await session.scalar(counts)

    # then: RLS hides them; the province path counts Kim Son's current members
    async with sessions(KIM_SON) as session:
        members = await session.scalar(
            select(func.count()).select_from(Member).where(Member.tenant_id == KIM_SON)
        )
    assert direct is None
    assert province == members
    assert members
