"""On PostgreSQL, row-level security is a second wall: raw SQL sees only the current tenant."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from tests import world

RAW_TABLES = [
    "organisations",
    "branches",
    "members",
    "meetings",
    "notices",
    "draft_resolutions",
    "resolution_comments",
    "documents",
    "attendance",
]


@pytest.fixture
def postgres(database):
    if database.backend != "postgresql":
        pytest.skip("row-level security is a PostgreSQL feature; SQLite relies on the query filter")
    return database


async def test_app_role_is_not_superuser_and_cannot_bypass_rls(postgres):
    # given
    engine = make_engine(postgres.app_url)
    # when
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
            )
        ).one()
    await engine.dispose()
    # then
    assert tuple(row) == (False, False)


@pytest.mark.parametrize("table", RAW_TABLES)
async def test_raw_select_without_filter_returns_only_current_tenant(postgres, table):
    # given: a session acting for Yen Mo
    engine = make_engine(postgres.app_url)
    session = scope_session(make_sessionmaker(engine)(), world.YEN_MO)
    # when: a raw SELECT with no tenant condition at all
    async with session:
        query = text(f"SELECT DISTINCT tenant_id FROM {table}")  # noqa: S608 - RAW_TABLES names
        tenants = set(await session.scalars(query))
    await engine.dispose()
    # then
    assert tenants <= {world.YEN_MO}


async def test_no_tenant_set_sees_no_rows(postgres):
    # given
    engine = make_engine(postgres.app_url)
    # when
    async with make_sessionmaker(engine)() as session:
        count = await session.scalar(text("SELECT count(*) FROM members"))
    await engine.dispose()
    # then
    assert count == 0


async def test_insert_for_another_tenant_is_refused(postgres):
    # given
    engine = make_engine(postgres.app_url)
    session = scope_session(make_sessionmaker(engine)(), world.YEN_MO)
    # when / then
    async with session:
        with pytest.raises(Exception, match="row-level security"):
            await session.execute(
                text(
                    "INSERT INTO organisations (tenant_id, id, name) "
                    "VALUES ('kim-son', '00000000-0000-0000-0000-00000000abcd', 'x')"
                )
            )
    await engine.dispose()


async def test_tenant_setting_does_not_leak_between_transactions(postgres):
    # given: one pooled connection used first for Yen Mo, then with no tenant
    engine = make_engine(postgres.app_url, pool_size=1)
    sessions = make_sessionmaker(engine)
    async with scope_session(sessions(), world.YEN_MO) as session:
        assert await session.scalar(text("SELECT count(*) FROM members")) == 5
        await session.commit()
    # when
    async with sessions() as session:
        leaked = await session.scalar(text("SELECT count(*) FROM members"))
    await engine.dispose()
    # then
    assert leaked == 0
