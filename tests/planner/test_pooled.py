"""The served app's planned path: the statement on a pooled connection of its own, no session.

The differential suite shares one test transaction between its apps, so its planned statements
run in the session's transaction; here each app has its own engine over committed data, as
``pilotgraph serve`` does, and the statement takes a connection from the pool: the same answers
as the schema for every caller, a failing connection answered with a code and never reused, and
a tenant id that cannot be written as a literal still set, as a bound parameter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import planner.execute
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
    """A planned and a generic app, each on its own engine; pooled statements counted."""
    states = [build_state(make_settings(database, planned_operations=p)) for p in (True, False)]
    for state in states:
        state.clock = lambda: world.NOW
        await state.registry.reload(state.sessionmaker)
    found = Paths(*(create_app(state.settings, state=state) for state in states))
    on_pooled = planner.execute._on_pooled

    async def counted(*args: Any) -> str:
        found.planned_statements += 1
        return await on_pooled(*args)

    monkeypatch.setattr(planner.execute, "_on_pooled", counted)
    yield found
    for state in states:
        await state.engine.dispose()


async def _post(paths: Paths, app: Any, caller: Any, token: Any, name: str) -> Any:
    async with paths.client(app, caller, token) as client:
        body = {"query": BY_NAME[name], "variables": PLANNED[name]}
        response = await client.post("/graphql", json=body)
    return response.status_code, response.json()


@pytest.mark.parametrize("name", sorted(PLANNED))
async def test_every_caller_gets_the_schemas_answer_from_a_pooled_connection(pooled, token, name):
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


async def test_a_connection_that_fails_is_answered_with_a_code_and_discarded(
    pooled, token, monkeypatch
):
    # given: the first statement's connection dies under it (its backend is terminated)
    begin = planner.execute._begin
    killed: list[int] = []

    async def dying(driver: Any, tenant: str) -> None:
        if not killed:
            killed.append(driver.get_server_pid())
            await driver.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        await begin(driver, tenant)

    monkeypatch.setattr(planner.execute, "_begin", dying)
    member = CALLERS[0]
    # when
    failed = await _post(pooled, pooled.planned, member, token, "Home")
    after = await _post(pooled, pooled.planned, member, token, "Home")
    # then
    assert failed[0] == 503, failed
    assert failed[1]["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert after[0] == 200
    assert after[1]["data"]["me"]["fullName"] == "Trần Thị Bình"


class _Driver:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []

    async def execute(self, *args: Any) -> None:
        self.sent.append(args)


@pytest.mark.parametrize(
    ("tenant", "expected"),
    [
        ("yen-mo", [("BEGIN; SELECT set_config('app.tenant_id', 'yen-mo', true)",)]),
        ("", [("BEGIN; SELECT set_config('app.tenant_id', '', true)",)]),
        (
            "o'brien\\",
            [("BEGIN",), ("SELECT set_config($1, $2, true)", "app.tenant_id", "o'brien\\")],
        ),
    ],
)
async def test_the_tenant_is_a_literal_only_when_it_cannot_escape_its_quotes(tenant, expected):
    # given
    driver = _Driver()
    # when
    await planner.execute._begin(driver, tenant)
    # then
    assert driver.sent == expected
