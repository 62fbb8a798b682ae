"""A request's reads are one database transaction: one BEGIN, the tenant set once as it begins.

The gateway runs here as served, on its own engine (no test transaction around it), so every
BEGIN a request causes is a real one. These requests only read.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from gateway.app import build_state, create_app
from tenants.types import Role
from tests import world
from tests.graphql import asgi_client, gql

HOME = """{
  me { fullName position branch { name } }
  meetings(when: UPCOMING, first: 5) { title startsAt place }
  notices(first: 5) { title kind publishedAt }
}"""
MEMBERS = "{ members(first: 50) { totalCount edges { node { fullName status } } } }"
NESTED = """{ branches {
  name organisation { name }
  members(first: 50) { totalCount edges { node { fullName branch { name } } } }
  meetings(when: ALL) { title attendance { status member { fullName } } }
} }"""
KIM_SON_NESTED = """{ tenant(slug: "kim-son") { memberCount branches {
  name members { edges { node { fullName } } } meetings(when: ALL) { title }
} } }"""


@dataclass
class Transactions:
    """What one request did to the database."""

    begun: int = 0
    tenants_set: list[str] = field(default_factory=list)
    statements: int = 0


@contextmanager
def recorded(engine: AsyncEngine) -> Iterator[Transactions]:
    seen = Transactions()

    def begin(_conn: Any) -> None:
        seen.begun += 1

    def statement(_conn: Any, _cursor: Any, sql: str, params: Any, *_rest: Any) -> None:
        seen.statements += 1
        if "set_config" in sql:
            seen.tenants_set.append(params[1])

    sync = engine.sync_engine
    event.listen(sync, "begin", begin)
    event.listen(sync, "before_cursor_execute", statement)
    try:
        yield seen
    finally:
        event.remove(sync, "begin", begin)
        event.remove(sync, "before_cursor_execute", statement)


@pytest.fixture
async def served(settings) -> AsyncIterator[tuple[Starlette, AsyncEngine]]:
    """The gateway on its own engine and pool, as ``pilotgraph serve`` builds it."""
    state = build_state(settings)
    state.clock = lambda: world.NOW
    await state.registry.reload(state.sessionmaker)
    yield create_app(settings, state=state), state.engine
    await state.engine.dispose()


async def _one_request(served, token, query, headers=None) -> tuple[dict[str, Any], Transactions]:
    app, engine = served
    async with asgi_client(app, token, headers) as client:
        await gql(client, query)  # warm: first-use work (e.g. the pool connecting) is not counted
        with recorded(engine) as seen:
            status, body = await gql(client, query)
    assert status == 200, body
    assert "errors" not in body, body
    return body, seen


def _tenant_settings(database, *tenants: str) -> list[str]:
    """PostgreSQL sets the tenant for row-level security; SQLite has nothing to set."""
    return list(tenants) if database.backend == "postgresql" else []


@pytest.mark.parametrize(
    ("role", "subject", "query", "reads"),
    [
        # the actor's member, the member's branch, the meetings, the notices
        (Role.MEMBER, world.YM_MEMBER_A, HOME, 4),
        # the actor's member, then the page with its total in the same statement
        (Role.TENANT_ADMIN, world.YM_SECRETARY_A, MEMBERS, 2),
        # the actor's member, the branches, their organisations, members, member counts,
        # meetings, attendance, the attendees, the members' branches (by the branch loader)
        (Role.TENANT_ADMIN, world.YM_SECRETARY_A, NESTED, 9),
    ],
    ids=["member home", "list of members", "nested branches"],
)
async def test_a_read_is_one_transaction_with_the_tenant_set_once(
    served, token, database, role, subject, query, reads
):
    # given
    signed = token(role, tenant=world.YEN_MO, subject=str(subject))
    # when
    body, seen = await _one_request(served, signed, query)
    # then: one round trip per kind of thing read, plus setting the tenant on PostgreSQL
    assert body["data"]
    assert seen.begun == 1
    assert seen.tenants_set == _tenant_settings(database, world.YEN_MO)
    assert seen.statements == reads + len(seen.tenants_set)


async def test_a_tenant_read_by_slug_stays_in_the_one_transaction(served, token, database):
    # given: a province admin acting on Yen Mo
    signed = token(Role.PROVINCE_ADMIN, subject="province-admin-1")
    # when: it reads Kim Son's nested data
    body, seen = await _one_request(served, signed, KIM_SON_NESTED, {"X-Tenant": world.YEN_MO})
    # then: one transaction; Kim Son is set around each of its reads and Yen Mo set back,
    # never the same tenant twice in a row
    assert body["data"]["tenant"]["memberCount"] == 2
    assert seen.begun == 1
    settings = seen.tenants_set
    if database.backend == "postgresql":
        assert settings[0] == world.KIM_SON  # the transaction begins inside Kim Son's read
        assert settings[-1] == world.YEN_MO
        assert all(a != b for a, b in itertools.pairwise(settings))
    else:
        assert settings == []
