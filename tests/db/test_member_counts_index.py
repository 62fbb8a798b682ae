"""The dashboard's members-before-the-range sum is covered by an index on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import text

from db.engine import make_engine
from tests import databases
from tests.conftest import IN_CI

INDEX = "ix_adoption_member_counts_covering"


@pytest.fixture
async def postgres() -> AsyncIterator[databases.TestDatabase]:
    reason = await databases.postgres_reachable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {reason}")
        pytest.skip(reason)
    db = await databases.create_postgres()
    yield db
    await databases.drop_postgres(db)


async def test_postgres_index_covers_tenant_day_and_count(postgres):
    # given
    conn = await asyncpg.connect(host=databases.PG_HOST, user="postgres", database=postgres.name)
    try:
        # when
        definition = await conn.fetchval(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'adoption_member_counts' "
            "AND indexname = $1",
            INDEX,
        )
    finally:
        await conn.close()

    # then
    assert definition is not None, f"{INDEX} is missing"
    assert definition.endswith("USING btree (tenant_id, joined_on) INCLUDE (members)")


async def test_sqlite_index_covers_tenant_day_and_count(tmp_path: Path):
    # given
    db = await databases.create_sqlite(tmp_path)
    engine = make_engine(db.admin_url)
    try:
        # when
        async with engine.connect() as conn:
            columns = (await conn.execute(text(f"PRAGMA index_info('{INDEX}')"))).all()
    finally:
        await engine.dispose()

    # then
    assert [row[2] for row in columns] == ["tenant_id", "joined_on", "members"]
