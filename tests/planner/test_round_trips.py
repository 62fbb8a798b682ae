"""A planned read costs the fewest round trips correctness allows: BEGIN with the tenant set for
the transaction (row-level security) in one simple-protocol message, the one planned statement,
then the transaction's end (left out here). Two, down from three when the session began the
transaction and set the tenant apart. Counted as sent: the
driver's own statements (BEGIN, the planned one) by asyncpg's query logger, SQLAlchemy's
prepared ones by its cursor event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event

from gateway.app import build_state, create_app
from tenants.types import Role
from tests import world
from tests.conftest import make_settings
from tests.graphql import asgi_client, gql
from tests.planner.conftest import BY_NAME


@pytest.fixture
async def served(postgres_only, database) -> AsyncIterator[Any]:
    """``served(planned)`` → the gateway on its own engine, and the statements it sends."""
    engines = []

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

        event.listen(state.engine.sync_engine, "checkout", checkout)
        event.listen(state.engine.sync_engine, "before_cursor_execute", statement)
        return create_app(state.settings, state=state), sent

    yield serve
    for engine in engines:
        await engine.dispose()


async def _statements(
    served, token, planned: bool, name: str = "Home", role: Role = Role.MEMBER
) -> tuple[dict[str, Any], list[str]]:
    app, sent = await served(planned)
    signed = token(role, tenant=world.YEN_MO, subject=str(world.YM_MEMBER_A))
    variables = {"first": 2} if name == "Members" else None
    async with asgi_client(app, signed) as client:
        await gql(client, BY_NAME[name], variables)  # warm: the pool connects, prepares
        sent.clear()
        status, body = await gql(client, BY_NAME[name], variables)
    assert status == 200, body
    return body, [query for query in sent if not query.startswith(("ROLLBACK", "COMMIT"))]


async def test_the_planned_home_is_one_statement_in_one_transaction(served, token):
    # when
    body, sent = await _statements(served, token, planned=True)
    # then
    assert body["data"]["me"]["fullName"] == "Trần Thị Bình"
    assert [_kind(query) for query in sent] == ["BEGIN+set_config", "planned"]
    assert "'app.tenant_id', '" + world.YEN_MO + "', true" in sent[0]


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
    assert [_kind(query) for query in sent] == ["BEGIN+set_config", "planned"]
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
