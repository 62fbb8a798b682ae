"""The served app's planned path: the statement on a connection that keeps its tenant, no session.

The differential suite shares one test transaction between its apps, so its planned statements
run in the session's transaction; here each app has its own engine over committed data, as
``pilotgraph serve`` does, and the statement goes to the planned connections
(:mod:`db.tenant_connections`): the same answers as the schema for every caller, a connection
the server dropped replaced without the client noticing, and a failing fresh connection answered
with a code and never reused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

import db.tenant_connections
import planner.execute
from db.connections import asyncpg_dsn
from gateway.app import build_state, create_app
from tests import world
from tests.conftest import make_settings
from tests.planner.conftest import BY_NAME, Paths
from tests.planner.world import CALLERS

PLANNED = {
    "Home": {},
    "Meetings": {"when": "UPCOMING", "first": 5},
    "Notices": {"first": 5},
    "Documents": {"first": 20, "search": "họp"},
}


@pytest.fixture
async def pooled(postgres_only, database, monkeypatch) -> AsyncIterator[Paths]:
    """A planned and a generic app, each on its own engine; planned statements counted."""
    states = [build_state(make_settings(database, planned_operations=p)) for p in (True, False)]
    for state in states:
        state.clock = lambda: world.NOW
        await state.registry.reload(state.sessionmaker)
    found = Paths(*(create_app(state.settings, state=state) for state in states))
    fetch = planner.execute.fetch_pooled

    async def counted(*args: Any) -> str:
        found.planned_statements += 1
        return await fetch(*args)

    monkeypatch.setattr(planner.execute, "fetch_pooled", counted)
    monkeypatch.setattr("gateway.lane.fetch_pooled", counted)
    yield found
    for state in states:
        await db.tenant_connections.close_tenant_connections(state.engine)
        await state.engine.dispose()


async def _post(paths: Paths, app: Any, caller: Any, token: Any, name: str) -> Any:
    async with paths.client(app, caller, token) as client:
        body = {"query": BY_NAME[name], "variables": PLANNED[name]}
        response = await client.post("/graphql", json=body)
    return response.status_code, response.json()


@pytest.mark.parametrize("name", sorted(PLANNED))
async def test_every_caller_gets_the_schemas_answer_from_a_planned_connection(pooled, token, name):
    for caller in CALLERS:
        # when
        before = pooled.planned_statements
        planned = await _post(pooled, pooled.planned, caller, token, name)
        ran_pooled = pooled.planned_statements > before
        generic = await _post(pooled, pooled.generic, caller, token, name)
        # then
        assert planned == generic, caller.name
        succeeded = generic[0] == 200 and "errors" not in generic[1]
        assert ran_pooled == succeeded, (caller.name, generic)
    assert pooled.planned_statements > 0


async def _planned_backends(database: Any) -> list[int]:
    admin = await asyncpg.connect(asyncpg_dsn(database.admin_url))
    try:
        rows = await admin.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'pilotgraph-planned'"
            " AND datname = current_database()"
        )
        for row in rows:
            await admin.execute("SELECT pg_terminate_backend($1)", row["pid"])
    finally:
        await admin.close()
    return [row["pid"] for row in rows]


async def test_a_connection_the_server_dropped_is_replaced_and_the_statement_runs_again(
    pooled, token, database
):
    # given: a planned connection served the member, then the server dropped it
    member = CALLERS[0]
    first = await _post(pooled, pooled.planned, member, token, "Home")
    assert await _planned_backends(database), "the first request left a planned connection"
    # when
    after = await _post(pooled, pooled.planned, member, token, "Home")
    # then: the client never sees the dead connection
    assert first[0] == after[0] == 200
    assert after[1] == first[1]
    assert after[1]["data"]["me"]["fullName"] == "Trần Thị Bình"


async def test_a_fresh_connection_that_fails_is_answered_with_a_code_and_discarded(
    pooled, token, monkeypatch, database
):
    # given: the server ends the first connection opened before its first statement
    connect = db.tenant_connections.connect_direct
    killed: list[int] = []

    async def dying(*args: Any, **kwargs: Any) -> Any:
        connection = await connect(*args, **kwargs)
        if not killed:
            killed.append(connection.get_server_pid())
            await _planned_backends(database)
        return connection

    monkeypatch.setattr(db.tenant_connections, "connect_direct", dying)
    member = CALLERS[0]
    # when
    failed = await _post(pooled, pooled.planned, member, token, "Home")
    after = await _post(pooled, pooled.planned, member, token, "Home")
    # then
    assert failed[0] == 503, failed
    assert failed[1]["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert after[0] == 200
    assert after[1]["data"]["me"]["fullName"] == "Trần Thị Bình"
    engine = pooled.planned.state.pilotgraph.engine
    assert db.tenant_connections.tenant_connections(engine).opened == 1
