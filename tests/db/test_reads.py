"""Hot reads run by asyncpg on the session's connection (:mod:`db.reads`), as the app role.

Every variant of every hot read statement (generated from the statement builders: each filter
present or not) must return the rows SQLAlchemy's own execution returns, in the same
transaction and under the same row-level security; on PostgreSQL each must take asyncpg's way
(a statement that falls back is reported), be seen by the engine's statement listeners, and a
connection the server ended must fail as the database's outage and not be used again.
"""

from __future__ import annotations

import inspect
import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Select, event, func, select
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection as Adapted

from db import reads
from db.connections import ConnectionLost, asyncpg_dsn
from db.engine import make_engine
from db.sessions import make_sessionmaker, scope_session
from schema.unavailable import classify
from tenants import rows as tenant_rows
from tenants.handbook import statements
from tests import world

FLAGS = (False, True)
PARAMS: dict[str, Any] = {
    "tenant_id": world.YEN_MO,
    "branch_id": world.YM_BRANCH_A,
    "own_branch_id": world.YM_BRANCH_A,
    "status": "active",
    "pattern": statements.contains_pattern("n"),
    "after_name": "C",
    "after_id": uuid.UUID(int=0),
    "limit": 50,
    "now": world.NOW,
    "kind": "general",
    "ids": [world.YM_MEMBER_A, world.YM_MEMBER_A2, world.YM_BRANCH_A, uuid.UUID(int=7)],
}


# The hot reads' modules: every Select they hold, and every variant their builders make.
MODULES = (statements, tenant_rows)
# A builder's parameter that is not a flag, and the values it takes.
CHOICES: dict[str, tuple[str, ...]] = {"when": ("upcoming", "past", "all")}
# The PostgreSQL form of an IN-list read (``= ANY``) is named after it: X_BY_ID_ARRAY for X_BY_IDS.
ARRAY_FORM = ("_BY_ID_ARRAY", "_BY_IDS")


def hot_reads() -> Iterator[tuple[str, Select[Any], Select[Any] | None]]:
    """Each hot read statement of the modules, every variant, with its PostgreSQL form where it
    has one: generated, so a new statement or builder is covered without editing this test."""
    for module in MODULES:
        held = {name: v for name, v in vars(module).items() if isinstance(v, Select)}
        for name, statement in held.items():
            if name.endswith(ARRAY_FORM[0]):
                assert name.replace(*ARRAY_FORM) in held, f"{name} has no IN-list form"
                continue
            array = name.removesuffix(ARRAY_FORM[1]) + ARRAY_FORM[0]
            yield name, statement, held.get(array) if name.endswith(ARRAY_FORM[1]) else None
        for name, builder in vars(module).items():
            function = inspect.unwrap(builder) if callable(builder) else None
            if inspect.isfunction(function) and function.__module__ == module.__name__:
                yield from _variants(name, function, builder)


def _variants(
    name: str, unwrapped: Any, builder: Any
) -> Iterator[tuple[str, Select[Any], Select[Any] | None]]:
    signature = inspect.signature(unwrapped)
    if signature.return_annotation != "Select[Any]":
        return
    choices = [CHOICES.get(p, FLAGS) for p in signature.parameters]
    for variant in itertools.product(*choices):
        yield f"{name}{variant}", builder(*variant), None


HOT_READS = list(hot_reads())
_BACKEND: Select[Any] = select(func.pg_backend_pid())


@pytest.mark.parametrize(
    ("name", "statement", "postgres"), HOT_READS, ids=[r[0] for r in HOT_READS]
)
async def test_a_hot_read_returns_what_sqlalchemy_returns(gateway, name, statement, postgres):
    for tenant in (world.YEN_MO, world.KIM_SON, None):
        async with scope_session(gateway.sessionmaker(), tenant) as session:
            params = PARAMS | {"tenant_id": tenant or world.YEN_MO}
            # when
            found = await reads.rows(session, statement, params, postgres=postgres)
            expected = (await session.execute(statement, params)).all()
        # then: the same rows, values and order; row-level security alike (no tenant: none)
        assert [tuple(row) for row in found] == [tuple(row) for row in expected], (name, tenant)


@pytest.fixture
def postgres(database: Any) -> None:
    if database.backend != "postgresql":
        pytest.skip("on SQLite every read goes through the session: nothing to compare")


@pytest.mark.parametrize(
    ("name", "statement", "postgres_form"), HOT_READS, ids=[r[0] for r in HOT_READS]
)
async def test_every_hot_read_takes_asyncpgs_way_on_postgresql(
    postgres, gateway, statements, name, statement, postgres_form
):
    async with scope_session(gateway.sessionmaker(), world.YEN_MO) as session:
        connection = await session.connection()
        before = statements.count
        # when
        await reads.rows(session, statement, PARAMS, postgres=postgres_form)
        # then: compiled for asyncpg, and seen by the engine's statement listeners once
        chosen = statement if postgres_form is None else postgres_form
        assert reads.compiled_for(chosen, connection.dialect) is not None
        assert statements.count == before + 1


async def test_a_connection_the_server_ended_is_an_outage_and_is_not_reused(postgres, database):
    # given: a session of the gateway's own engine (no test transaction) has read once
    engine = make_engine(database.app_url)
    sessionmaker = make_sessionmaker(engine)
    errors: list[tuple[type[BaseException], bool, str]] = []

    def handle_error(context: Any) -> None:
        errors.append((type(context.original_exception), context.is_disconnect, context.statement))

    event.listen(engine.sync_engine, "handle_error", handle_error)
    try:
        async with scope_session(sessionmaker(), world.YEN_MO) as session:
            first = await reads.rows(session, tenant_rows.ALL_BRANCHES, PARAMS)
            pid = (await reads.rows(session, _BACKEND, {}))[0][0]
            await _terminate(database, pid)
            # when
            with pytest.raises(
                (asyncpg.InterfaceError, asyncpg.PostgresError, ConnectionLost)
            ) as raised:
                await reads.rows(session, tenant_rows.ALL_BRANCHES, PARAMS)
        # then: answered as the database's outage, told to the engine's error listeners as a
        # disconnect, and the next session gets a new connection
        assert classify(raised.value) == "SERVICE_UNAVAILABLE"
        assert [(disconnect, "FROM branches" in sql) for _, disconnect, sql in errors] == [
            (True, True)
        ]
        async with scope_session(sessionmaker(), world.YEN_MO) as session:
            assert await reads.rows(session, tenant_rows.ALL_BRANCHES, PARAMS) == first
            assert (await reads.rows(session, _BACKEND, {}))[0][0] != pid
    finally:
        await engine.dispose()


async def _terminate(database: Any, pid: int) -> None:
    admin = await asyncpg.connect(asyncpg_dsn(database.admin_url))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_broken_protocol_at_the_transactions_start_is_an_outage(
    postgres, database, monkeypatch
):
    # given: the server's goodbye left asyncpg mid-operation as the session's transaction
    # begins (kill -9 of the postmaster); SQLAlchemy's adapter translates asyncpg's error
    engine = make_engine(database.app_url)
    sessionmaker = make_sessionmaker(engine)
    start = Adapted._start_transaction

    async def broken(self: Any) -> None:
        self._handle_exception(
            asyncpg.exceptions.InternalClientError(
                "cannot switch to state 15; another operation (2) is in progress"
            )
        )

    try:
        async with scope_session(sessionmaker(), world.YEN_MO) as session:
            first = await reads.rows(session, _BACKEND, {})
        monkeypatch.setattr(Adapted, "_start_transaction", broken)
        async with scope_session(sessionmaker(), world.YEN_MO) as session:
            # when
            with pytest.raises(ConnectionLost) as raised:
                await reads.rows(session, tenant_rows.ALL_BRANCHES, PARAMS)
        # then: the database's outage (503), and the connection is not used again
        assert classify(raised.value) == "SERVICE_UNAVAILABLE"
        monkeypatch.setattr(Adapted, "_start_transaction", start)
        async with scope_session(sessionmaker(), world.YEN_MO) as session:
            assert await reads.rows(session, _BACKEND, {}) != first
    finally:
        await engine.dispose()
