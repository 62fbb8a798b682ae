"""A planned read costs the fewest round trips correctness allows: the one planned statement, in
its own implicit transaction, on a connection whose session is already set to the request's
tenant (row-level security); one more, ``set_config``, when the connection last served another
tenant. The generic path sends BEGIN, the tenant, several statements and the end. Counted as
sent: the planned connections' statements by asyncpg's query logger, the engine's by asyncpg's
query logger on checkout and SQLAlchemy's cursor event."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event

import db.tenant_connections
from gateway.app import build_state, create_app
from tenants.types import Role
from tests import world
from tests.conftest import make_settings
from tests.graphql import asgi_client, gql
from tests.planner.conftest import BY_NAME


@pytest.fixture
async def served(postgres_only, database, monkeypatch) -> AsyncIterator[Any]:
    """``served(planned)`` → the gateway on its own engine, and the statements it sends."""
    engines = []
    loggers: list[Any] = []
    connect = db.tenant_connections.connect_direct

    async def logged_connect(*args: Any, **kwargs: Any) -> Any:
        connection = await connect(*args, **kwargs)
        connection.add_query_logger(loggers[-1])
        return connection

    monkeypatch.setattr(db.tenant_connections, "connect_direct", logged_connect)

    async def serve(planned: bool) -> tuple[Any, list[str]]:
        state = build_state(make_settings(database, planned_operations=planned))
        state.clock = lambda: world.NOW
        await state.registry.reload(state.sessionmaker)
        engines.append(state.engine)
        sent: list[str] = []

        def log(record: Any) -> None:
            sent.append(record.query)

        def checkout(dbapi_connection: Any, *_rest: Any) -> None:
            dbapi_connection.driver_connection.add_query_logger(log)

        def statement(_conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
            sent.append(sql)

        loggers.append(log)

        event.listen(state.engine.sync_engine, "checkout", checkout)
        event.listen(state.engine.sync_engine, "before_cursor_execute", statement)
        return create_app(state.settings, state=state), sent

    yield serve
    for engine in engines:
        await db.tenant_connections.close_tenant_connections(engine)
        await engine.dispose()


async def _statements(
    served,
    token,
    planned: bool,
    name: str = "Home",
    role: Role = Role.MEMBER,
    warm: bool = True,
) -> tuple[dict[str, Any], list[str]]:
    app, sent = await served(planned)
    signed = token(role, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    variables = {"first": 2} if name == "Members" else None
    async with asgi_client(app, signed) as client:
        if warm:
            await gql(client, BY_NAME[name], variables)  # the pool connects, sets, prepares
            await asyncio.sleep(0.05)  # asyncpg hands its query loggers their records later
        sent.clear()
        status, body = await gql(client, BY_NAME[name], variables)
        await asyncio.sleep(0.05)
    assert status == 200, body
    return body, [query for query in sent if not query.startswith(("ROLLBACK", "COMMIT"))]


async def test_the_planned_home_is_one_statement_on_a_connection_set_to_the_tenant(served, token):
    # when
    body, sent = await _statements(served, token, planned=True)
    # then
    assert body["data"]["me"]["fullName"] == "Trần Thị Bình"
    assert [_kind(query) for query in sent] == ["planned"]


async def test_a_connection_new_to_the_tenant_sets_it_for_its_session_first(served, token):
    # when: the first request opens a planned connection
    body, sent = await _statements(served, token, planned=True, warm=False)
    # then
    assert body["data"]["me"]["fullName"] == "Trần Thị Bình"
    assert [_kind(query) for query in sent] == ["set_config", "planned"]
    assert sent[0] == "SELECT set_config($1, $2, false)"


async def test_the_generic_home_takes_more_round_trips(served, token):
    # when
    planned_body, planned = await _statements(served, token, planned=True)
    generic_body, generic = await _statements(served, token, planned=False)
    # then: the same answer, for one data statement instead of several
    assert planned_body == generic_body
    assert [_kind(query) for query in generic].count("BEGIN") == 1
    assert len([q for q in generic if _kind(q) == "other"]) >= 3
    assert len(planned) < len(generic)


@pytest.mark.parametrize("role", [Role.TENANT_ADMIN, Role.BRANCH_SECRETARY, Role.MEMBER])
async def test_the_planned_member_list_is_one_statement_with_its_total(served, token, role):
    # when
    body, sent = await _statements(served, token, planned=True, name="Members", role=role)
    generic_body, generic = await _statements(served, token, False, "Members", role)
    # then: the page, its total and its page info in the one planned statement
    assert [_kind(query) for query in sent] == ["planned"]
    assert body == generic_body
    page = body["data"]["members"]
    assert len(page["edges"]) == 2
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["totalCount"] == (5 if role is Role.TENANT_ADMIN else 3)
    assert "planned" not in [_kind(query) for query in generic]


def _kind(query: str) -> str:
    if query.startswith("BEGIN;") and "set_config" in query:
        return "BEGIN+set_config"
    if query.startswith("BEGIN"):
        return "BEGIN"
    if "set_config" in query:
        return "set_config"
    if query.startswith("SELECT json_build_object("):
        return "planned"
    return "other"
