"""The figures the alerts read: 5xx answers by code, readiness, event refusals, schedule lag."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from pydantic import SecretStr

from db.sessions import make_sessionmaker
from gateway.app import build_state, create_app
from gateway.observability import metrics
from gateway.observability.schedule_lag import overdue_seconds
from rollout import schedule
from rollout.waves import Action
from tenants.handbook import service
from tenants.types import Role
from tests import world
from tests.conftest import make_settings
from tests.rollout.plan_world import ADMIN, KEY, make_plan
from tests.world import NOW

NOTICES = {"query": "{ notices { title } }"}
UNKNOWN_EVENT = {
    "type": "nap",
    "id": "00000000-0000-4000-8000-0000000000e1",
    "timestamp": "2026-11-25T02:00:00+00:00",
    "deviceId": "phone",
}


@pytest.fixture
async def session(connection):
    async with make_sessionmaker(connection, join_transaction_mode="create_savepoint")() as made:
        yield made


def value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def _client(app, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers)


async def test_an_overloaded_refusal_is_counted_by_code(database, token, monkeypatch):
    # given: one request in flight holds the only slot
    entered, release = asyncio.Event(), asyncio.Event()
    original = service.list_notices

    async def held(**kwargs):
        entered.set()
        await release.wait()
        return await original(**kwargs)

    monkeypatch.setattr(service, "list_notices", held)
    settings = make_settings(database, max_in_flight=1)
    app = create_app(settings, build_state(settings))
    before = value("pilotgraph_http_errors_total", status="503", code="OVERLOADED")
    async with (
        app.router.lifespan_context(app),
        _client(app, token(Role.MEMBER, tenant=world.YEN_MO)) as client,
    ):
        first = asyncio.create_task(client.post("/graphql", json=NOTICES))
        await asyncio.wait_for(entered.wait(), 10)
        refused = await asyncio.wait_for(client.post("/graphql", json=NOTICES), 10)
        release.set()
        served = await first
    # then
    assert (served.status_code, refused.status_code) == (200, 503)
    assert refused.json()["errors"][0]["extensions"]["code"] == "OVERLOADED"
    assert value("pilotgraph_http_errors_total", status="503", code="OVERLOADED") == before + 1


async def test_readyz_sets_the_readiness_gauge(database):
    # given: a gateway whose database answers, and one whose database cannot be opened
    up = make_settings(database)
    down = make_settings(database).model_copy(
        update={"database_url": SecretStr("postgresql+asyncpg://postgres@127.0.0.1:1/none")}
    )
    answers = []
    for settings in (up, down):
        state = build_state(settings)
        async with _client(create_app(settings, state)) as client:
            answers.append((await client.get("/readyz")).status_code)
        await state.engine.dispose()
        # then
        assert value("pilotgraph_ready") == (1 if settings is up else 0)
    assert answers == [200, 503]


async def test_refused_events_are_counted_by_code(client_for, token):
    # given
    client = client_for(token(Role.MEMBER, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A)))
    labels = {"tenant": world.YEN_MO, "code": "UNKNOWN_EVENT_TYPE"}
    before = value("pilotgraph_events_refused_total", **labels)
    # when
    response = await client.post("/v1/events", json=[UNKNOWN_EVENT, UNKNOWN_EVENT])
    # then
    assert response.status_code == 200
    assert response.json()["refused"] == 2
    assert value("pilotgraph_events_refused_total", **labels) == before + 2


async def test_schedule_lag_is_the_age_of_the_oldest_overdue_step(connection, session):
    # given: two steps, due at NOW and an hour later
    await make_plan(session)
    for due, action in ((NOW, Action.START), (NOW + dt.timedelta(hours=1), Action.PAUSE)):
        await schedule.schedule(
            session=session,
            province_id="ninh-binh",
            flag_key=KEY,
            action=action,
            run_at=due,
            actor=ADMIN,
            reason="test",
            now=NOW - dt.timedelta(days=1),
        )
    await session.flush()
    # when
    before = await overdue_seconds(connection, NOW - dt.timedelta(seconds=1))
    later = await overdue_seconds(connection, NOW + dt.timedelta(hours=2))
    # then
    assert before == 0
    assert later == pytest.approx(2 * 3600)
