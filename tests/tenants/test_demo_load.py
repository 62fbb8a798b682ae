"""The demo province: 12 tenants, 75,180 members in 663 organisations, loaded once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from tenants.demo.load import load_demo
from tenants.demo.province import TENANTS
from tenants.handbook.models import Member
from tenants.models import Organisation, Tenant
from tests import databases
from tests.conftest import IN_CI

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield await databases.create_sqlite(tmp_path)
        return
    reason = await databases.postgres_reachable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {reason}")
        pytest.skip(reason)
    db = await databases.create_postgres()
    yield db
    await databases.drop_postgres(db)


async def _totals(sessions):
    members = organisations = 0
    per_tenant = {}
    for tenant in TENANTS:
        async with scope_session(sessions(), tenant.slug) as session:
            count = await session.scalar(
                select(func.count()).select_from(Member).where(Member.tenant_id == tenant.slug)
            )
            orgs = await session.scalar(
                select(func.count())
                .select_from(Organisation)
                .where(Organisation.tenant_id == tenant.slug)
            )
        per_tenant[tenant.slug] = count
        members += count
        organisations += orgs
    return members, organisations, per_tenant


@pytest.mark.slow
async def test_demo_load_totals_and_loading_twice_adds_nothing(empty_database):
    # given
    engine = make_engine(empty_database.app_url)
    sessions = make_sessionmaker(engine)
    # when
    first = await load_demo(sessionmaker=sessions, today=TODAY)
    second = await load_demo(sessionmaker=sessions, today=TODAY)
    members, organisations, per_tenant = await _totals(sessions)
    async with sessions() as session:
        tenants = await session.scalar(select(func.count()).select_from(Tenant))
    await engine.dispose()
    # then
    assert len(first.loaded) == 15  # Ninh Binh's 12 and Ha Nam's 3
    assert second.loaded == []
    assert tenants == 15
    assert members == 75_180
    assert organisations == 663
    assert per_tenant["yen-mo"] == 6_014
    assert round(5_413 / per_tenant["yen-mo"], 2) == 0.90


def test_demo_build_is_deterministic():
    # given
    from tenants.demo.build import build_tenant

    yen_mo = next(t for t in TENANTS if t.slug == "yen-mo")
    # when
    a = build_tenant(yen_mo, seed=7, today=TODAY)
    b = build_tenant(yen_mo, seed=7, today=TODAY)
    # then
    assert [m["full_name"] for m in a.members] == [m["full_name"] for m in b.members]
    assert [m["id"] for m in a.members] == [m["id"] for m in b.members]
    assert len(a.members) == 6_014
    assert len(a.organisations) == 58
