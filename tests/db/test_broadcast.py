"""Listeners hold connections of their own, notice their loss, reconnect fast and catch up.

PostgreSQL: a listener's backend is terminated from a superuser connection
(``pg_terminate_backend``), as a database restart or a failover would; the shared server itself
is never stopped.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from db.broadcast import RESYNC, Listener, Reconnect, notify
from db.connections import Keepalive, asyncpg_dsn
from db.engine import make_engine
from db.sessions import make_sessionmaker
from tenants import service
from tenants.models import Tenant
from tenants.registry import TenantRegistry
from tests import databases
from tests.stall_proxy import StallProxy

CHANNEL = "pilotgraph_test_broadcast"
CONVERGED_S = 2.0


async def _wait_for(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def _listening_pids(database: databases.TestDatabase, channel: str) -> list[int]:
    """Backends of ``database`` whose last statement was ``LISTEN channel``."""
    conn = await asyncpg.connect(host=databases.PG_HOST, user="postgres", database="postgres")
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE $2",
            database.name,
            f'LISTEN "{channel}"%',
        )
    finally:
        await conn.close()
    return [row["pid"] for row in rows]


async def _terminate(pid: int) -> None:
    conn = await asyncpg.connect(host=databases.PG_HOST, user="postgres", database="postgres")
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


@pytest.fixture
def postgres(database: databases.TestDatabase) -> databases.TestDatabase:
    if database.backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY connections are PostgreSQL's")
    return database


@pytest.fixture
async def engine(postgres: databases.TestDatabase) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(postgres.app_url, pool_size=1)
    yield engine
    await engine.dispose()


class Heard:
    """What a listener called back with, and when."""

    def __init__(self) -> None:
        self.payloads: list[tuple[float, str]] = []

    async def __call__(self, payload: str) -> None:
        self.payloads.append((time.monotonic(), payload))

    def got(self, payload: str) -> bool:
        return any(p == payload for _, p in self.payloads)


async def _started(engine: AsyncEngine, heard: Heard, **options) -> Listener:
    listener = Listener(engine, CHANNEL, heard, **options)
    await listener.start()
    assert await _wait_for(lambda: listener.connects == 1)
    return listener


async def _send(engine: AsyncEngine, payload: str) -> None:
    async with make_sessionmaker(engine)() as session:
        await notify(session, CHANNEL, payload)


async def test_a_terminated_listener_reconnects_and_hears_the_next_change_within_2_s(
    postgres, engine
):
    # given: a listener, found as the database sees it
    heard = Heard()
    listener = await _started(engine, heard)
    [pid] = await _listening_pids(postgres, CHANNEL)
    assert pid == listener.backend_pid
    # when: its backend is killed (a restart, a failover), and a change follows at once
    killed_at = time.monotonic()
    await _terminate(pid)
    reconnected = await _wait_for(lambda: listener.connects == 2, CONVERGED_S)
    await _send(engine, "after")
    delivered = await _wait_for(lambda: heard.got("after"), CONVERGED_S)
    await listener.stop()
    # then: a new backend, the change delivered, all within 2 s of the loss
    assert reconnected
    assert delivered
    heard_at = next(t for t, p in heard.payloads if p == "after")
    assert heard_at - killed_at < CONVERGED_S
    assert listener.backend_pid is None


async def test_a_change_made_while_disconnected_is_caught_up_by_the_resync(postgres, engine):
    # given: a replica's registry kept by a listener that waits 1 s before reconnecting
    sessions = make_sessionmaker(engine)
    registry = TenantRegistry()
    await registry.reload(sessions)

    async def reload(_payload: str) -> None:
        await registry.reload(sessions)

    listener = Listener(engine, "pilotgraph_tenants", reload, reconnect=Reconnect(first_s=1.0))
    await listener.start()
    assert await _wait_for(lambda: listener.connects == 1)
    slug = "gia-vien-missed"
    # when: its connection is lost, and a tenant is registered (and announced) meanwhile
    await _terminate(listener.backend_pid)
    assert await _wait_for(lambda: listener.backend_pid is None)
    async with sessions() as session:
        await service.register_tenant(
            session=session,
            tenant_id=slug,
            province_id="ninh-binh",
            name="Đảng bộ huyện Gia Viễn",
            kind="district",
        )
    missed = registry.get(slug) is None
    caught_up = await _wait_for(lambda: registry.get(slug) is not None, 1.0 + CONVERGED_S)
    await listener.stop()
    async with engine.begin() as conn:  # leave the shared database as it was
        await conn.execute(delete(Tenant).where(Tenant.id == slug))
    # then
    assert missed
    assert caught_up
    assert listener.connects == 2


async def test_the_listener_takes_no_pool_connection(postgres, engine):
    # given: an engine whose pool holds one connection
    heard = Heard()
    # when: a listener starts on it
    listener = await _started(engine, heard)
    checked_out = engine.sync_engine.pool.checkedout()
    conn = await asyncpg.connect(host=databases.PG_HOST, user="postgres", database="postgres")
    names = await conn.fetch(
        "SELECT application_name FROM pg_stat_activity WHERE pid = $1", listener.backend_pid
    )
    await conn.close()
    async with engine.connect():  # the pool's one connection is free for requests
        in_use = engine.sync_engine.pool.checkedout()
    await listener.stop()
    # then
    assert checked_out == 0
    assert in_use == 1
    assert [row["application_name"] for row in names] == ["pilotgraph-listener"]


async def test_a_resync_follows_every_connect_and_every_period(postgres, engine):
    # given
    heard = Heard()
    # when
    listener = await _started(engine, heard, resync_s=0.2)
    await asyncio.sleep(0.7)
    await listener.stop()
    # then: one resync on connecting, then one per period
    resyncs = [p for _, p in heard.payloads if p == RESYNC]
    assert 3 <= len(resyncs) <= 5


async def test_a_stopped_listener_stops_at_once_even_while_it_cannot_connect(postgres):
    # given: a "database" that accepts connections and never answers (a black hole)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    url = postgres.app_url.replace("@127.0.0.1:5432/", f"@127.0.0.1:{port}/")
    engine = make_engine(url, connect_timeout_s=30)
    listener = Listener(engine, CHANNEL, Heard())
    await listener.start()
    await asyncio.sleep(0.3)  # connecting, and waiting on the silence
    # when
    started = time.monotonic()
    await listener.stop()
    elapsed = time.monotonic() - started
    silent.close()
    await engine.dispose()
    # then
    assert elapsed < 0.5


async def test_keepalive_is_set_on_pool_and_listener_connections(postgres, engine):
    # given
    listener = await _started(engine, Heard())
    # when
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        pooled = _keepalive_of(raw)
    listening = _keepalive_of(listener._conn)
    await listener.stop()
    # then
    expected = Keepalive()
    for options in (pooled, listening):
        assert options == {
            "SO_KEEPALIVE": 1,
            "TCP_KEEPIDLE": expected.idle_s,
            "TCP_KEEPINTVL": expected.interval_s,
            "TCP_KEEPCNT": expected.count,
            "TCP_USER_TIMEOUT": expected.dead_after_s * 1000,
        }


async def test_pool_and_listener_connections_carry_the_command_timeout(postgres, engine):
    # given
    listener = await _started(engine, Heard())
    # when
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        pooled = raw._config.command_timeout
    listening = listener._conn._config.command_timeout
    await listener.stop()
    # then
    assert pooled == listening == 15.0


def _keepalive_of(conn) -> dict[str, int]:
    sock = conn._transport.get_extra_info("socket")
    tcp = {
        name: sock.getsockopt(socket.IPPROTO_TCP, getattr(socket, name))
        for name in ("TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT", "TCP_USER_TIMEOUT")
    }
    return {"SO_KEEPALIVE": sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), **tcp}


@given(
    first=st.floats(min_value=0.01, max_value=1.0),
    cap=st.floats(min_value=1.0, max_value=5.0),
    attempts=st.integers(min_value=1, max_value=30),
)
def test_reconnect_waits_grow_to_the_cap_with_jitter(first, cap, attempts):
    # given
    delays = Reconnect(first_s=first, cap_s=cap).delays()
    # when
    waits = [delays() for _ in range(attempts)]
    # then: each wait within half and all of min(first * 2^n, cap)
    for n, wait in enumerate(waits):
        ceiling = min(first * 2**n, cap)
        assert ceiling / 2 <= wait <= ceiling


async def test_a_failed_catch_up_is_retried_at_once_on_the_same_connection(postgres, engine):
    # given: a callback whose first resync fails (a dead pooled connection after a restart)
    heard = Heard()
    failures = [RuntimeError("connection is closed")]

    async def flaky(payload: str) -> None:
        if failures:
            raise failures.pop()
        await heard(payload)

    # when
    started = time.monotonic()
    listener = Listener(engine, CHANNEL, flaky)
    await listener.start()
    caught_up = await _wait_for(lambda: heard.got(RESYNC), CONVERGED_S)
    elapsed = time.monotonic() - started
    await listener.stop()
    # then: caught up well within the bound, without dropping the connection
    assert caught_up
    assert elapsed < 1.0
    assert listener.connects == 1


async def test_a_change_that_fails_to_apply_is_retried_until_it_is(postgres, engine):
    # given: a caught-up listener whose next two applications fail (the pool's connections
    # died with a restart the listener's own connection survived, or came back from)
    heard = Heard()
    listener = await _started(engine, heard)
    assert await _wait_for(lambda: heard.got(RESYNC))
    failures = [RuntimeError("connection is closed"), RuntimeError("connection is closed")]

    async def flaky(payload: str) -> None:
        if failures:
            raise failures.pop()
        await heard(payload)

    listener.callback = flaky
    # when: a change is announced
    sent_at = time.monotonic()
    await _send(engine, "change")
    applied = await _wait_for(lambda: not failures and len(heard.payloads) > 1, CONVERGED_S)
    await listener.stop()
    # then: applied (as a resync) within the bound, not at the next periodic resync
    assert applied
    assert heard.payloads[-1][1] == RESYNC
    assert heard.payloads[-1][0] - sent_at < CONVERGED_S
    assert listener.connects == 1


async def test_a_listener_on_a_silent_network_notices_and_reconnects_when_it_returns(postgres):
    # given: a listener whose database is reached through a proxy that can go silent
    proxy = StallProxy()
    await proxy.start()
    engine = make_engine(proxy.url(postgres.app_url), connect_timeout_s=1.0)
    writer = make_engine(postgres.app_url)
    heard = Heard()
    listener = await _started(engine, heard, reconnect=Reconnect(ping_s=0.5))
    # when: the network goes silent (no reset, no close), then comes back
    proxy.stall()
    noticed = await _wait_for(lambda: listener.backend_pid is None, 2.0)
    await asyncio.sleep(1.0)
    proxy.resume()
    resumed_at = time.monotonic()
    reconnected = await _wait_for(lambda: listener.connects >= 2, CONVERGED_S)
    reconnect_s = time.monotonic() - resumed_at
    await _send(writer, "after")
    delivered = await _wait_for(lambda: heard.got("after"), 1.0)
    await listener.stop()
    await proxy.close()
    await engine.dispose()
    await writer.dispose()
    # then: the loss seen by the ping, a new subscription within 2 s of the network's return
    assert noticed
    assert reconnected
    assert reconnect_s < CONVERGED_S
    assert delivered
    assert [p for _, p in heard.payloads].count(RESYNC) == 2


@pytest.mark.parametrize(
    ("url", "dsn"),
    [
        ("postgresql+asyncpg://app:s3cret@db:5432/pg", "postgresql://app:s3cret@db:5432/pg"),
        (
            "postgresql+asyncpg://app@db/pg?prepared_statement_cache_size=0&ssl=require",
            "postgresql://app@db/pg?ssl=require",
        ),
    ],
)
def test_the_direct_connection_takes_the_url_without_the_dialects_parameters(url, dsn):
    assert asyncpg_dsn(url) == dsn
