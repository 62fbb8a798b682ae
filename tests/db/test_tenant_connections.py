"""Connections that keep their tenant (:mod:`db.tenant_connections`), as the app role.

The tenant lives in the connection's session between statements, so the one property that
matters is that no statement ever reads as another tenant: alternating tenants on a single
connection each see only their own rows, in any order hypothesis draws. Also: the pool's bound
and its wait, a statement that fails leaving no connection behind, and closing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import exc as sa_exc

import db.tenant_connections
from db.connections import ConnectionLost, ConnectOptions
from db.tenant_connections import TenantConnections
from schema.unavailable import classify
from tests import world

TENANTS = [world.YEN_MO, world.KIM_SON, world.DUY_TIEN, "", "no-such-tenant", "o'brien\\"]
SEEN = "SELECT coalesce(json_agg(DISTINCT tenant_id ORDER BY tenant_id), '[]')::text FROM members"


@pytest.fixture
async def pool(database: Any) -> AsyncIterator[TenantConnections]:
    if database.backend != "postgresql":
        pytest.skip("planned connections are PostgreSQL's")
    found = TenantConnections(database.app_url, ConnectOptions(connect_timeout_s=0.5), size=1)
    yield found
    await found.close()


async def _seen(pool: TenantConnections, tenant: str) -> list[str]:
    return list(json.loads(await pool.fetchval(tenant, SEEN, [])))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(order=st.lists(st.sampled_from(TENANTS), min_size=1, max_size=12))
async def test_a_connection_reused_across_tenants_only_ever_reads_the_requested_one(pool, order):
    for tenant in order:
        # when
        seen = await _seen(pool, tenant)
        # then: row-level security with the statement's own tenant, never the last one's
        known = tenant in (world.YEN_MO, world.KIM_SON, world.DUY_TIEN)
        assert seen == ([tenant] if known else []), (order, tenant)
    assert pool.opened == 1


async def test_a_checkout_waits_for_a_connection_then_fails_as_an_exhausted_pool(pool):
    # given: the pool's one connection is busy
    busy = asyncio.ensure_future(pool.fetchval(world.YEN_MO, "SELECT pg_sleep(1.5)::text", []))
    await asyncio.sleep(0.2)
    # when / then: a second statement waits the connect timeout, then fails as SQLAlchemy's would
    with pytest.raises(sa_exc.TimeoutError):
        await pool.fetchval(world.KIM_SON, SEEN, [])
    await busy
    assert await _seen(pool, world.KIM_SON) == [world.KIM_SON]


async def test_a_failing_statement_leaves_no_connection_behind(pool):
    # when
    with pytest.raises(Exception, match="division by zero"):
        await pool.fetchval(world.YEN_MO, "SELECT (1 / 0)::text", [])
    # then: discarded, and the next statement gets a fresh one set to its tenant
    assert pool.opened == 0
    assert await _seen(pool, world.YEN_MO) == [world.YEN_MO]
    assert pool.opened == 1


async def test_a_cancelled_statement_leaves_no_connection_behind(pool):
    # given
    slow = asyncio.ensure_future(pool.fetchval(world.YEN_MO, "SELECT pg_sleep(5)::text", []))
    await asyncio.sleep(0.2)
    # when
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    # then
    assert pool.opened == 0
    assert await _seen(pool, world.DUY_TIEN) == [world.DUY_TIEN]


async def test_closed_connections_refuse_further_statements(pool):
    # given
    assert await _seen(pool, world.YEN_MO) == [world.YEN_MO]
    # when
    await pool.close()
    # then
    assert pool.opened == 0
    with pytest.raises(sa_exc.InterfaceError):
        await pool.fetchval(world.YEN_MO, SEEN, [])


class _Breaking:
    """A real connection whose next operation meets asyncpg's broken-protocol error."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)

    async def execute(self, *_: Any) -> Any:
        raise asyncpg.exceptions.InternalClientError(
            "cannot switch to state 11; another operation (2) is in progress"
        )


async def test_a_connection_whose_protocol_breaks_is_a_lost_connection_answered_503(
    pool, monkeypatch
):
    # given: the server's goodbye arrives while asyncpg is between operations; its protocol then
    # refuses the next one with an internal error, as a backend terminated right after connecting
    connect = db.tenant_connections.connect_direct

    async def breaking(*args: Any, **kwargs: Any) -> Any:
        return _Breaking(await connect(*args, **kwargs))

    monkeypatch.setattr(db.tenant_connections, "connect_direct", breaking)
    # when
    with pytest.raises(ConnectionLost) as raised:
        await pool.fetchval(world.YEN_MO, SEEN, [])
    # then: the database's outage, retryable, and the connection is gone
    assert classify(raised.value) == "SERVICE_UNAVAILABLE"
    assert pool.opened == 0
