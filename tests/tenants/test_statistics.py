"""PostgreSQL after bulk loads: statistics refreshed, and RLS-only reads served by an index.

Autovacuum is off on the test server (as it may lag in production): only the bulk paths' own
``ANALYZE`` gives the planner its statistics.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from adoption import rollups
from db.engine import make_engine
from db.sessions import make_sessionmaker
from gateway import migrate
from gateway.cli_metrics import _rebuild
from tenants.demo import load
from tenants.demo.load import FILLED, load_demo
from tenants.demo.province import DISTRICT, DemoProvince, DemoTenant
from tests import databases
from tests.conftest import IN_CI
from tests.world import load_world

TODAY = dt.date(2026, 11, 25)
BIG = DemoProvince(
    "big-province",
    "Big",
    "Asia/Ho_Chi_Minh",
    tuple(DemoTenant(f"big-{n}", f"Big {n}", DISTRICT, 2_500, 12) for n in range(5)),
)
SMALL = DemoProvince(
    "small-province",
    "Small",
    "Asia/Ho_Chi_Minh",
    (DemoTenant("small-0", "Small", DISTRICT, 40, 2),),
)
PAGE = "SELECT id, full_name FROM members ORDER BY full_name, id LIMIT 50"
COUNT = "SELECT count(*) FROM members"


async def _fresh_postgres() -> databases.TestDatabase:
    reason = await databases.postgres_reachable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {reason}")
        pytest.skip(reason)
    return await databases.create_postgres()


@pytest.fixture
async def postgres() -> AsyncIterator[databases.TestDatabase]:
    db = await _fresh_postgres()
    yield db
    await databases.drop_postgres(db)


@pytest.fixture(scope="module")
async def loaded() -> AsyncIterator[databases.TestDatabase]:
    """Six tenants of members in two provinces, loaded by the demo's bulk path (the tests
    leave them as they found them)."""
    db = await _fresh_postgres()
    engine = make_engine(db.app_url)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(load, "PROVINCES", (BIG, SMALL))
        await load_demo(sessionmaker=make_sessionmaker(engine), today=TODAY)
    await engine.dispose()
    yield db
    await databases.drop_postgres(db)


async def _admin(db: databases.TestDatabase) -> asyncpg.Connection:
    return await asyncpg.connect(host=databases.PG_HOST, user="postgres", database=db.name)


async def _last_analyze(db: databases.TestDatabase, tables: tuple[str, ...]) -> dict[str, Any]:
    conn = await _admin(db)
    try:
        rows = await conn.fetch(
            "SELECT relname, last_analyze FROM pg_stat_user_tables WHERE relname = ANY($1)",
            list(tables),
        )
    finally:
        await conn.close()
    return {r["relname"]: r["last_analyze"] for r in rows}


def _scans(plan: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    yield plan["Node Type"], plan.get("Relation Name")
    for child in plan.get("Plans", []):
        yield from _scans(child)


async def _plan(db: databases.TestDatabase, settings: dict[str, str], query: str) -> list[Any]:
    """The plan's (node, relation) pairs of ``query`` as the application's role, RLS alone."""
    conn = await asyncpg.connect(host=databases.PG_HOST, user=databases.APP_ROLE, database=db.name)
    try:
        async with conn.transaction():
            for name, value in settings.items():
                await conn.execute("SELECT set_config($1, $2, true)", name, value)
            [plan] = json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) {query}"))
    finally:
        await conn.close()
    return list(_scans(plan["Plan"]))


async def _rows(db: databases.TestDatabase, settings: dict[str, str], query: str) -> int:
    conn = await asyncpg.connect(host=databases.PG_HOST, user=databases.APP_ROLE, database=db.name)
    try:
        async with conn.transaction():
            for name, value in settings.items():
                await conn.execute("SELECT set_config($1, $2, true)", name, value)
            return len(await conn.fetch(query.replace(" LIMIT 50", "")))
    finally:
        await conn.close()


async def test_demo_load_analyzes_every_table_it_filled(loaded):
    # when
    analyzed = await _last_analyze(loaded, FILLED)
    # then
    assert sorted(analyzed) == sorted(FILLED)
    assert [t for t, at in analyzed.items() if at is None] == []


@pytest.mark.parametrize(
    "settings",
    [
        {"app.tenant_id": "big-2"},
        {"app.province_id": "small-province"},
        {"app.tenant_id": "small-0"},
    ],
    ids=["tenant", "province", "small-tenant"],
)
@pytest.mark.parametrize("query", [PAGE, COUNT], ids=["page", "count"])
async def test_a_read_relying_on_rls_alone_uses_the_tenant_index(loaded, settings, query):
    # when
    plan = await _plan(loaded, settings, query)
    # then: no scan of every tenant's members
    on_members = [node for node, relation in plan if relation == "members"]
    assert on_members, plan
    assert "Seq Scan" not in on_members, plan


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"app.tenant_id": "big-2"}, 2_500),
        ({"app.province_id": "big-province"}, 5 * 2_500),
        ({"app.province_id": "small-province"}, 40),
        ({"app.tenant_id": "small-0", "app.province_id": "big-province"}, 40 + 5 * 2_500),
        ({}, 0),
        ({"app.tenant_id": "", "app.province_id": ""}, 0),
    ],
    ids=["tenant", "province", "small-province", "tenant-and-province", "none", "empty"],
)
async def test_the_read_policy_admits_the_same_rows(loaded, settings, expected):
    assert await _rows(loaded, settings, PAGE) == expected


async def test_metrics_rebuild_analyzes_the_rollups(postgres):
    # given the hand-made world
    engine = make_engine(postgres.app_url)
    await load_world(make_sessionmaker(engine))
    await engine.dispose()
    # when
    await _rebuild(postgres.app_url, None, None)
    # then
    analyzed = await _last_analyze(postgres, rollups.REBUILT)
    assert sorted(analyzed) == sorted(rollups.REBUILT)
    assert [t for t, at in analyzed.items() if at is None] == []


async def test_the_migration_downgrades_and_upgrades_again(loaded):
    # when
    await asyncio.to_thread(migrate.downgrade, loaded.admin_url, "0006")
    before = await _rows(loaded, {"app.province_id": "big-province"}, PAGE)
    downgraded = await _plan(loaded, {"app.tenant_id": "big-2"}, COUNT)
    await asyncio.to_thread(migrate.upgrade, loaded.admin_url)
    after = await _rows(loaded, {"app.province_id": "big-province"}, PAGE)
    upgraded = await _plan(loaded, {"app.tenant_id": "big-2"}, COUNT)
    # then: the same rows either way; only the new policies are served by the index
    assert before == after == 5 * 2_500
    assert ("Seq Scan", "members") in downgraded
    assert ("Seq Scan", "members") not in upgraded
