"""A request's session outlives every resolver: no connection is left behind, on any transport."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped]
import pytest

from gateway.app import build_state, create_app
from gateway.state import GatewayState
from tenants.types import Role
from tests import databases, world
from tests.conftest import make_settings
from tests.graphql import asgi_client
from tests.websocket import connect

# ``tenant`` (non-null) fails at once while ``me`` still waits for the database.
ORPHANING = '{ me { id } b: tenant(slug: "kim-son") { slug } }'
IDLE_IN_TRANSACTION = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = $1 AND usename = $2 AND state LIKE 'idle in transaction%'
"""
CONCURRENT = 200


@pytest.fixture
async def pooled(database: databases.TestDatabase) -> AsyncIterator[GatewayState]:
    """The gateway on a real engine and pool (not the transactional test connection)."""
    state = build_state(make_settings(database))
    state.clock = lambda: world.NOW
    await state.registry.reload(state.sessionmaker)
    yield state
    await state.engine.dispose()


async def idle_in_transaction(database: databases.TestDatabase) -> int:
    """Backends of the app role left idle in a transaction (asked as the superuser)."""
    if database.backend != "postgresql":
        return 0
    conn = await asyncpg.connect(host=databases.PG_HOST, user="postgres", database=database.name)
    try:
        found = await conn.fetchval(IDLE_IN_TRANSACTION, database.name, databases.APP_ROLE)
    finally:
        await conn.close()
    return int(found)


async def settled(state: GatewayState) -> int:
    """Pooled connections still checked out once the work in flight had a moment to end."""
    for _ in range(20):
        if state.engine.sync_engine.pool.checkedout() == 0:  # type: ignore[attr-defined]
            return 0
        await asyncio.sleep(0.1)
    return int(state.engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


async def test_a_failing_sibling_leaves_no_connection_behind_over_http(pooled, database, token):
    # given
    app = create_app(pooled.settings, state=pooled)
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    async with asgi_client(app, member) as client:
        # when
        answers = await asyncio.gather(
            *(client.post("/graphql", json={"query": ORPHANING}) for _ in range(CONCURRENT))
        )
        ready = await client.get("/readyz")
    # then
    assert {a.json()["errors"][0]["extensions"]["code"] for a in answers} == {"FORBIDDEN_TENANT"}
    assert await settled(pooled) == 0
    assert await idle_in_transaction(database) == 0
    assert ready.json()["status"] == "ready"


async def test_a_failing_sibling_leaves_no_connection_behind_over_websocket(
    pooled, database, token
):
    # given
    app = create_app(pooled.settings, state=pooled)
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))

    async def one_connection() -> list[str]:
        async with connect(app, member) as socket:
            answers = await asyncio.gather(
                *(socket.operation({"query": ORPHANING}) for _ in range(10))
            )
        return [a[0]["payload"]["errors"][0]["extensions"]["code"] for a in answers]

    # when
    codes = await asyncio.gather(*(one_connection() for _ in range(CONCURRENT // 10)))
    # then
    assert {code for codes_ in codes for code in codes_} == {"FORBIDDEN_TENANT"}
    assert await settled(pooled) == 0
    assert await idle_in_transaction(database) == 0
    async with asgi_client(app) as client:
        assert (await client.get("/readyz")).json()["status"] == "ready"


async def test_each_websocket_operation_closes_its_session_when_it_ends(pooled, database, token):
    # given
    app = create_app(pooled.settings, state=pooled)
    member = token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    async with connect(app, member) as socket:
        # when
        await asyncio.gather(*(socket.operation({"query": ORPHANING}) for _ in range(10)))
        # then: the socket is still open, its operations' connections are back
        assert await settled(pooled) == 0
        assert await idle_in_transaction(database) == 0
