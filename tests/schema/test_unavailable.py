"""classify(): the database's failures and timeouts, recognised through the chain that wraps them.

The exceptions are the drivers' own classes, wrapped as SQLAlchemy wraps them; the pool timeout,
the refused and timed-out connects, the statement and command timeouts and SQLite's lock are
provoked for real.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import socket
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from asyncpg import exceptions as pg
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import (
    AsyncAdapt_asyncpg_connection,
    AsyncAdapt_asyncpg_dbapi,
)
from sqlalchemy.ext.asyncio import create_async_engine

from schema.errors import INTERNAL_SERVER_ERROR, unexpected
from schema.unavailable import QUERY_TIMEOUT, SERVICE_UNAVAILABLE, classify
from tests import databases
from tests.conftest import IN_CI

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ERRORS.md"
PG_ADMIN = databases.SHARED.url("postgres")
DBAPI = AsyncAdapt_asyncpg_dbapi(asyncpg)


def wrapped(error: Exception) -> sa_exc.DBAPIError:
    """``error`` as SQLAlchemy's asyncpg dialect hands it to the application."""
    try:
        AsyncAdapt_asyncpg_connection._handle_exception_no_connection(DBAPI, error)
    except Exception as adapted:
        translated = adapted
    wrapper = sa_exc.DBAPIError.instance("SELECT 1", None, translated, DBAPI.Error)
    wrapper.__cause__ = translated
    return wrapper


def _postgres_classes(prefix: str) -> list[type[pg.PostgresError]]:
    return [
        cls
        for cls in vars(pg).values()
        if isinstance(cls, type)
        and issubclass(cls, pg.PostgresError)
        and str(getattr(cls, "sqlstate", "")).startswith(prefix)
    ]


CONNECTION_CLASSES = _postgres_classes("08")
UNAVAILABLE_POSTGRES = [
    pg.CannotConnectNowError,  # 57P03: starting up
    pg.AdminShutdownError,  # 57P01
    pg.CrashShutdownError,  # 57P02
    pg.TooManyConnectionsError,  # 53300
    *CONNECTION_CLASSES,
]
NOT_THE_DATABASE = [
    pg.UniqueViolationError("duplicate key"),
    pg.ForeignKeyViolationError("no such tenant"),
    pg.UndefinedTableError("relation does not exist"),
    pg.InvalidTextRepresentationError("invalid input syntax"),
    pg.CharacterNotInRepertoireError("invalid byte sequence"),
    sqlite3.OperationalError("no such table: members"),
    sqlite3.IntegrityError("UNIQUE constraint failed"),
    RuntimeError("bug"),
    FileNotFoundError(2, "No such file or directory"),
    PermissionError(13, "Permission denied"),
    ValueError("bad"),
    KeyError("key"),
    AssertionError(),
]


def test_connection_exceptions_are_class_08():
    # the generated list is not empty by accident
    assert {pg.ConnectionDoesNotExistError, pg.ConnectionFailureError} <= set(CONNECTION_CLASSES)


@pytest.mark.parametrize("cls", UNAVAILABLE_POSTGRES, ids=lambda cls: cls.__name__)
def test_postgres_unavailable_states_are_service_unavailable(cls):
    # given: asyncpg's exception, bare and as SQLAlchemy wraps it
    error = cls("the database system is starting up")
    # when / then
    assert classify(error) == SERVICE_UNAVAILABLE
    assert classify(wrapped(error)) == SERVICE_UNAVAILABLE
    assert classify(wrapped(error)) == SERVICE_UNAVAILABLE


def test_a_statement_timeout_is_query_timeout():
    # given
    error = pg.QueryCanceledError("canceling statement due to statement timeout")
    # when / then
    assert error.sqlstate == "57014"
    assert classify(wrapped(error)) == QUERY_TIMEOUT
    assert classify(wrapped(error)) != SERVICE_UNAVAILABLE


@pytest.mark.parametrize("error", NOT_THE_DATABASE, ids=lambda e: type(e).__name__)
def test_other_errors_are_not_classified(error):
    # when / then
    assert classify(error) is None
    if isinstance(error, pg.PostgresError):
        assert classify(wrapped(error)) is None


def test_an_invalidated_connection_is_service_unavailable():
    # given: SQLAlchemy saw the connection drop (is_disconnect)
    error = sa_exc.DBAPIError("SELECT 1", None, Exception("gone"), connection_invalidated=True)
    # then
    assert classify(error) == SERVICE_UNAVAILABLE


def test_a_cycle_in_the_chain_ends():
    # given
    first, second = RuntimeError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    # then
    assert classify(first) is None


def test_codes_are_documented():
    # given
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", DOCS.read_text(), flags=re.MULTILINE))
    # then
    assert {SERVICE_UNAVAILABLE, QUERY_TIMEOUT, INTERNAL_SERVER_ERROR} <= documented


def test_unexpected_logs_once_and_answers_a_generic_message(caplog):
    # given
    error = wrapped(pg.CannotConnectNowError("the database system is starting up"))
    # when
    fault = unexpected(error, at="somewhere")
    secret = unexpected(RuntimeError("password=hunter2"))
    # then
    assert fault.code == SERVICE_UNAVAILABLE
    assert fault.retryable
    assert fault.message == (
        f"The database is unavailable; retry shortly (error id {fault.error_id})."
    )
    assert fault.extensions == {"code": SERVICE_UNAVAILABLE, "errorId": fault.error_id}
    assert secret.code == INTERNAL_SERVER_ERROR
    assert not secret.retryable
    assert secret.message == f"Unexpected error; quote error id {secret.error_id}."
    logged = [r for r in caplog.records if r.name == "pilotgraph.errors"]
    assert [r.error_id for r in logged] == [fault.error_id, secret.error_id]  # type: ignore[attr-defined]
    assert all(r.exc_info for r in logged)


# Cause chains: the first link that says something decides.
LINKS: list[tuple[Callable[[], BaseException], str | None]] = [
    (lambda: pg.CannotConnectNowError("starting up"), SERVICE_UNAVAILABLE),
    (lambda: pg.AdminShutdownError("terminating"), SERVICE_UNAVAILABLE),
    (lambda: pg.TooManyConnectionsError("too many"), SERVICE_UNAVAILABLE),
    (lambda: pg.ConnectionDoesNotExistError("closed"), SERVICE_UNAVAILABLE),
    (
        lambda: pg.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
        SERVICE_UNAVAILABLE,
    ),
    (lambda: pg.InternalClientError("unexpected message type"), None),
    (lambda: pg.QueryCanceledError("statement timeout"), QUERY_TIMEOUT),
    (lambda: ConnectionRefusedError(111, "refused"), SERVICE_UNAVAILABLE),
    (lambda: ConnectionResetError(104, "reset"), SERVICE_UNAVAILABLE),
    (lambda: OSError(113, "No route to host"), SERVICE_UNAVAILABLE),
    (lambda: OSError("Multiple exceptions: [Errno 111] ..., [Errno 99] ..."), SERVICE_UNAVAILABLE),
    (lambda: socket.gaierror(-2, "Name or service not known"), SERVICE_UNAVAILABLE),
    (lambda: FileNotFoundError(2, "No such file"), None),
    (lambda: sa_exc.TimeoutError("QueuePool limit reached"), SERVICE_UNAVAILABLE),
    (lambda: TimeoutError(), SERVICE_UNAVAILABLE),
    (lambda: sqlite3.OperationalError("database is locked"), SERVICE_UNAVAILABLE),
    (lambda: pg.UniqueViolationError("duplicate"), None),
    (lambda: sqlite3.OperationalError("no such column: x"), None),
    (lambda: RuntimeError("bug"), None),
    (lambda: ValueError("bad"), None),
]


def _link(outer: BaseException, inner: BaseException, how: str) -> None:
    """``outer`` caused by ``inner``: directly, or through a group or wrapper that says nothing."""
    if how == "context":
        outer.__context__ = inner
    elif how == "group":
        outer.__cause__ = BaseExceptionGroup("task group", [inner])
    elif how == "wrap":  # as SQLAlchemy wraps a driver's error: orig, and raised from it
        wrapper = sa_exc.DBAPIError("SELECT 1", None, inner)
        wrapper.__cause__ = inner
        outer.__cause__ = wrapper
    else:
        outer.__cause__ = inner


@given(
    st.lists(
        st.tuples(
            st.sampled_from(range(len(LINKS))),
            st.sampled_from(["cause", "context", "group", "wrap"]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_first_link_that_says_something_decides(chain):
    # given: links from the outermost in; each is caused by the next
    errors = [LINKS[index][0]() for index, _how in chain]
    for (outer, inner), (_index, how) in zip(itertools.pairwise(errors), chain, strict=False):
        _link(outer, inner, how)
    verdicts = [LINKS[index][1] for index, _how in chain]
    # when
    verdict = classify(errors[0])
    # then
    assert verdict == next((v for v in verdicts if v is not None), None)


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never answers (a blackholed database)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in held:
            writer.transport.abort()
        server.close()
        await server.wait_closed()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again on return: nothing listens


async def _raised(engine_url: str, statement: str, **connect_args: object) -> BaseException:
    engine = create_async_engine(engine_url, connect_args=connect_args, pool_timeout=0.2)
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    except Exception as error:
        return error
    finally:
        await engine.dispose()
    raise AssertionError("the statement succeeded")


@pytest.fixture
async def postgres() -> None:
    reason = await databases.postgres_reachable()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI and unreachable: {reason}")
        pytest.skip(f"PostgreSQL unreachable: {reason}")


async def test_a_refused_connection_is_service_unavailable():
    # given: nothing listens on the port
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/postgres"
    # when
    error = await _raised(url, "SELECT 1", timeout=2)
    # then
    assert classify(error) == SERVICE_UNAVAILABLE


async def test_a_connect_timeout_is_service_unavailable():
    # given: the server accepts and never answers
    async with silent_server() as port:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
        # when
        error = await _raised(url, "SELECT 1", timeout=0.2)
    # then
    assert isinstance(error, TimeoutError)
    assert classify(error) == SERVICE_UNAVAILABLE


async def test_a_real_statement_timeout_is_query_timeout(postgres):
    # when: the server cancels the statement (SQLSTATE 57014)
    error = await _raised(
        PG_ADMIN, "SELECT pg_sleep(2)", server_settings={"statement_timeout": "50"}
    )
    # then
    assert isinstance(error, sa_exc.DBAPIError)
    assert classify(error) == QUERY_TIMEOUT


async def test_a_real_command_timeout_is_query_timeout(postgres):
    # when: asyncpg gives up on the statement itself (client side, a bare TimeoutError)
    error = await _raised(PG_ADMIN, "SELECT pg_sleep(2)", command_timeout=0.1)
    # then
    assert isinstance(error, TimeoutError)
    assert classify(error) == QUERY_TIMEOUT


async def test_a_real_pool_timeout_is_service_unavailable(tmp_path):
    # given: a pool of one connection, held
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}", pool_size=1, max_overflow=0, pool_timeout=0.1
    )
    try:
        async with engine.connect():
            # when
            with pytest.raises(sa_exc.TimeoutError) as raised:
                async with engine.connect():
                    pass
    finally:
        await engine.dispose()
    # then
    assert classify(raised.value) == SERVICE_UNAVAILABLE


async def test_a_real_sqlite_lock_is_service_unavailable(tmp_path):
    # given: another writer holds SQLite's write lock
    url = f"sqlite+aiosqlite:///{tmp_path / 'locked.db'}"
    holder = create_async_engine(url)
    waiter = create_async_engine(url, connect_args={"timeout": 0.05})
    try:
        async with holder.connect() as held:
            await held.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            await held.commit()
            await held.exec_driver_sql("BEGIN IMMEDIATE")
            await held.exec_driver_sql("INSERT INTO t VALUES (1)")
            # when
            with pytest.raises(sa_exc.OperationalError) as raised:
                async with waiter.begin() as conn:
                    await conn.exec_driver_sql("INSERT INTO t VALUES (2)")
    finally:
        await holder.dispose()
        await waiter.dispose()
    # then
    assert "locked" in str(raised.value)
    assert classify(raised.value) == SERVICE_UNAVAILABLE
