"""A silently dead database connection is bounded: the client-side command timeout answers a
request coded 503 long before the request's own time limit."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.pool import NullPool, QueuePool

from gateway.app import build_state, create_app
from tenants.types import Role
from tests import world
from tests.conftest import make_settings
from tests.stall_proxy import StallProxy

NOTICES = {"query": "{ notices { title } }"}
COMMAND_TIMEOUT_S = 2.0


@pytest.fixture
async def stalled(database) -> AsyncIterator[tuple[StallProxy, httpx.AsyncClient]]:
    if database.backend != "postgresql":
        pytest.skip("a silent network is PostgreSQL's case")
    proxy = StallProxy()
    await proxy.start()
    settings = make_settings(
        database,
        database_statement_timeout_ms=1000,
        database_command_timeout_s=COMMAND_TIMEOUT_S,
    )
    url = type(settings.database_url)(proxy.url(database.app_url))
    settings = settings.model_copy(update={"database_url": url})
    state = build_state(settings)
    await state.registry.reload(state.sessionmaker)
    app = create_app(settings, state=state)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    try:
        yield proxy, client
    finally:
        await client.aclose()
        await proxy.close()
        await state.engine.dispose()


async def test_a_request_on_a_silent_connection_answers_503_within_the_command_timeout(
    stalled, token
):
    # given: a member reading notices, then the network goes silent (no reset, no close)
    proxy, client = stalled
    headers = {"Authorization": f"Bearer {token(Role.MEMBER, tenant=world.YEN_MO)}"}
    before = await client.post("/graphql", json=NOTICES, headers=headers)
    proxy.stall()
    # when
    started = time.monotonic()
    during = await client.post("/graphql", json=NOTICES, headers=headers)
    elapsed = time.monotonic() - started
    # then: a coded 503 after the command timeout, not after the 30 s request limit
    assert before.status_code == 200
    assert during.status_code == 503
    # the driver cannot tell a silent network from a slow statement: its command timeout
    # answers QUERY_TIMEOUT (docs/ERRORS.md), retryable like SERVICE_UNAVAILABLE
    assert during.json()["errors"][0]["extensions"]["code"] == "QUERY_TIMEOUT"
    assert during.headers["retry-after"]
    assert elapsed < COMMAND_TIMEOUT_S + 2.0


async def test_listener_reloads_open_fresh_connections_outside_the_request_pool(database):
    # given: the gateway's state as `pilotgraph serve` builds it
    if database.backend != "postgresql":
        pytest.skip("SQLite has no pool of connections a network cut could leave silent")
    state = build_state(make_settings(database))
    try:
        # when: a listener's reload runs (tenants, then flags)
        await state.registry.reload(state.reloads())
        await state.flags.reload(state.reloads(), raise_on_failure=True)
        pool = state.engine.pool
        # then: each on a connection of its own, closed after use; the request pool never opened one
        assert state.reload_engine is not None
        assert isinstance(state.reload_engine.pool, NullPool)
        assert state.registry.get(world.YEN_MO) is not None
        assert isinstance(pool, QueuePool)
        assert (pool.checkedout(), pool.checkedin()) == (0, 0)
    finally:
        await state.engine.dispose()
        if state.reload_engine is not None:
            await state.reload_engine.dispose()
