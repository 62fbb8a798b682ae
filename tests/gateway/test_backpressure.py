"""Backpressure: requests beyond the in-flight bound are answered 503 OVERLOADED at once, and
readiness does not depend on the request pool."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.app import build_state, create_app
from gateway.edge.backpressure import EXEMPT_PATHS
from gateway.state import GatewayState
from tenants.handbook import service
from tenants.types import Role
from tests import world
from tests.conftest import make_settings

NOTICES = {"query": "{ notices { title } }"}
OVERLOADED = {
    "errors": [
        {
            "message": "The gateway is at capacity; retry after the time in Retry-After.",
            "extensions": {"code": "OVERLOADED"},
        }
    ]
}


@contextlib.asynccontextmanager
async def _gateway(database, **overrides: Any) -> AsyncIterator[tuple[GatewayState, Any]]:
    """A gateway with its own engine and pool (no test transaction), lifespan running."""
    settings = make_settings(database, **overrides)
    state = build_state(settings)
    app = create_app(settings, state=state)
    async with app.router.lifespan_context(app):
        yield state, app


def _client(app: Any, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize(("limit", "excess"), [(1, 1), (3, 2), (4, 9)])
async def test_requests_beyond_the_bound_are_refused_at_once(
    database, token, monkeypatch, limit, excess
):
    # given: notices that hold their request until released, and a bound of `limit`
    release = asyncio.Event()
    original = service.list_notices

    async def held(**kwargs):
        await release.wait()
        return await original(**kwargs)

    monkeypatch.setattr(service, "list_notices", held)
    async with _gateway(database, max_in_flight=limit) as (_state, app):
        client = _client(app, token(Role.MEMBER, tenant=world.YEN_MO))
        # when: limit + excess requests arrive together
        requests = [
            asyncio.create_task(client.post("/graphql", json=NOTICES))
            for _ in range(limit + excess)
        ]
        started = time.monotonic()
        refused_in_time = await _refused(requests, excess)
        refusal_s = time.monotonic() - started
        probes = [await client.get(path) for path in ("/healthz", "/readyz")]
        release.set()
        answers = await asyncio.gather(*requests)
        after = await client.post("/graphql", json=NOTICES)
        await client.aclose()
    # then: exactly `excess` refused at once, coded, with Retry-After; the rest served
    assert refused_in_time
    assert refusal_s < 1.0
    refused = [a for a in answers if a.status_code == 503]
    served = [a for a in answers if a.status_code == 200]
    assert len(refused) == excess
    assert len(served) == limit
    for answer in refused:
        assert answer.headers["retry-after"] == "1"
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == OVERLOADED
    for answer in served:
        assert answer.json()["data"]["notices"]
    assert [p.status_code for p in probes] == [200, 200]
    assert after.status_code == 200


async def _refused(requests: list[asyncio.Task[httpx.Response]], count: int) -> bool:
    deadline = time.monotonic() + 5.0
    while sum(r.done() for r in requests) < count:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.005)
    return True


async def test_the_default_bound_follows_the_pool_size(database):
    # given / when
    small = make_settings(database, database_pool_size=1)
    default = make_settings(database)
    explicit = make_settings(database, max_in_flight=7)
    # then: the connections the pool may open (pool size, plus as many overflowing)
    assert (small.in_flight_limit, default.in_flight_limit, explicit.in_flight_limit) == (2, 20, 7)


async def test_readyz_answers_200_while_the_request_pool_is_exhausted(database):
    # given: a gateway whose request pool (1 + 1 overflow) is entirely held
    if database.backend != "postgresql":
        pytest.skip("the pool size applies to PostgreSQL")
    async with _gateway(database, database_pool_size=1, database_connect_timeout_s=1.0) as (
        state,
        app,
    ):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        async with state.engine.connect() as first, state.engine.connect() as second:
            for conn in (first, second):
                await conn.exec_driver_sql("SELECT 1")
            held = state.engine.sync_engine.pool.checkedout()
            # when
            started = time.monotonic()
            ready = await client.get("/readyz")
            elapsed = time.monotonic() - started
        await client.aclose()
    # then
    assert held == 2
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"
    assert elapsed < 1.0


async def test_a_gateway_with_a_pool_of_one_serves_requests(database, token):
    # given: the smallest pool; the listeners hold connections of their own
    async with _gateway(database, database_pool_size=1, max_in_flight=8) as (state, app):
        client = _client(app, token(Role.MEMBER, tenant=world.YEN_MO))
        await asyncio.sleep(0.3)  # the listeners have connected
        # when
        answers = await asyncio.gather(*(client.post("/graphql", json=NOTICES) for _ in range(8)))
        checked_out = state.engine.sync_engine.pool.checkedout()
        await client.aclose()
    # then
    assert [a.status_code for a in answers] == [200] * 8
    assert all(a.json()["data"]["notices"] for a in answers)
    assert checked_out == 0


async def test_probes_and_the_console_stream_are_never_refused(database, token, monkeypatch):
    # given: a worker whose one slot is taken by a held request
    release = asyncio.Event()
    original = service.list_notices

    async def held(**kwargs):
        await release.wait()
        return await original(**kwargs)

    monkeypatch.setattr(service, "list_notices", held)
    async with _gateway(database, max_in_flight=1) as (_state, app):
        client = _client(app, token(Role.MEMBER, tenant=world.YEN_MO))
        holder = asyncio.create_task(client.post("/graphql", json=NOTICES))
        await asyncio.sleep(0.2)
        # when
        refused = await client.post("/graphql", json=NOTICES)
        probes = {path: (await client.get(path)).status_code for path in ("/healthz", "/readyz")}
        release.set()
        await holder
        await client.aclose()
    # then
    assert refused.status_code == 503
    assert probes == {"/healthz": 200, "/readyz": 200}
    assert "/admin/api/events" in EXEMPT_PATHS
