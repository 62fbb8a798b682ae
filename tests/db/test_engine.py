"""The PostgreSQL pool pings only connections that sat idle, and replaces one the server closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import make_engine
from tests.databases import PG_HOST


@pytest.fixture
def postgres(database):
    if database.backend != "postgresql":
        pytest.skip("the pool's ping is for PostgreSQL; SQLite opens a local file")
    return database


@dataclass
class Pooled:
    engine: AsyncEngine
    pings: int = 0


@pytest.fixture
async def pooled(postgres) -> AsyncIterator[Callable[[float], Pooled]]:
    """``pooled(ping_after_idle_s)``: a one-connection engine whose pings are counted."""
    made: list[Pooled] = []

    def make(ping_after_idle_s: float) -> Pooled:
        engine = make_engine(postgres.app_url, pool_size=1, ping_after_idle_s=ping_after_idle_s)
        result = Pooled(engine)
        ping = engine.dialect.do_ping

        def counted(dbapi_connection: Any) -> bool:
            result.pings += 1
            return ping(dbapi_connection)

        engine.dialect.do_ping = counted  # type: ignore[method-assign]
        made.append(result)
        return result

    yield make
    for result in made:
        await result.engine.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(text("SELECT pg_backend_pid()")))


async def _terminate(postgres, pid: int) -> None:
    conn = await asyncpg.connect(host=PG_HOST, user="postgres", database=postgres.name)
    try:
        await conn.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


async def test_a_connection_in_steady_use_is_not_pinged(pooled):
    # given: the connection is handed back and taken again at once
    pool = pooled(60.0)
    first = await _backend_pid(pool.engine)
    # when
    again = await _backend_pid(pool.engine)
    # then: the same connection, used without a ping (a ping is a transaction on asyncpg)
    assert again == first
    assert pool.pings == 0


async def test_an_idle_connection_the_server_closed_is_replaced_before_use(pooled, postgres):
    # given: a connection counted as idle at once, and the server closes it meanwhile
    pool = pooled(0.0)
    first = await _backend_pid(pool.engine)
    await _terminate(postgres, first)
    # when
    again = await _backend_pid(pool.engine)
    # then: the ping found it closed; the caller got a fresh connection, not an error
    assert pool.pings == 1
    assert again != first
