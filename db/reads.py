"""Hot reads run by asyncpg on the session's own connection and transaction.

A hot read (a member by id, a page of members, a branch's meetings) is a Core statement built once.
Through ``AsyncSession.execute`` each run still pays the ORM's execution (compile-cache lookup,
execution context, result object, a greenlet switch): more CPU than asyncpg's round trip itself.
:func:`rows` compiles the statement once for the engine's dialect and, on PostgreSQL, runs it as
SQLAlchemy's asyncpg adapter would, on the same connection and transaction (its prepared
statement cache, its mutex, its transaction start): the session has begun the transaction, so
the tenant row-level security reads is set as it is for every statement (:mod:`db.sessions`).

Only a statement SQLAlchemy would run unchanged takes this way: no parameter expanded at
execution (``IN`` lists: use ``= ANY`` on PostgreSQL); bind parameters and result columns are
converted by the dialect's own processors, as SQLAlchemy converts them. Anything else, and
SQLite, goes through the session. The engine's ``before_cursor_execute`` and
``after_cursor_execute`` listeners see each statement as they would (no cursor, no execution
context); a failure that may have left the connection unusable (the server went away, a timeout,
a cancellation) invalidates it, as SQLAlchemy does for a disconnect. :func:`execute_in_greenlet`
does the same from SQLAlchemy's synchronous code: the tenant's ``set_config`` as a transaction
begins.

This leans on SQLAlchemy 2.0's asyncpg adapter (its mutex, transaction and prepared-statement
cache) and compiled statements (positional parameters, processors), not public API; the lock file
pins SQLAlchemy, and ``tests/db/test_reads.py`` compares every hot read with SQLAlchemy's own
execution, so an upgrade that changes them fails there. Compiled statements are cached per
statement object, for PostgreSQL's asyncpg dialect only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.util import await_only

from db import statement_events
from db.connections import reraise_lost
from db.dialect import is_postgres

_Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A statement's SQL for asyncpg, its parameters in order with their converters."""

    sql: str
    names: tuple[str, ...]
    converters: tuple[_Convert | None, ...]
    # per result column, SQLAlchemy's conversion of asyncpg's value; None: none converts
    results: tuple[_Convert | None, ...] | None


_HELD = "db.reads.connection"
_COMPILED: WeakKeyDictionary[Select[Any], Compiled | None] = WeakKeyDictionary()


async def rows(
    session: AsyncSession,
    statement: Select[Any],
    params: Mapping[str, Any],
    *,
    postgres: Select[Any] | None = None,
) -> Sequence[Sequence[Any]]:
    """``statement``'s rows (positional), read in the session's transaction; on PostgreSQL
    ``postgres`` instead when given (the same read, its ``IN`` list as ``= ANY``)."""
    if is_postgres(session):
        held = await _held(session)
        chosen = statement if postgres is None else postgres
        compiled = compiled_for(chosen, held.connection.dialect)
        if compiled is not None:
            return await _fetch(held, compiled, params)
        statement = chosen
    found: Sequence[Sequence[Any]] = (await session.execute(statement, params)).all()
    return found


@dataclass(frozen=True, slots=True)
class _Held:
    """The session's connection for one of its transactions, and SQLAlchemy's asyncpg adapter."""

    transaction: object
    connection: AsyncConnection
    adapted: Any  # AsyncAdapt_asyncpg_connection


async def _held(session: AsyncSession) -> _Held:
    """The session's connection in its transaction, begun (and the tenant set) if need be.

    Kept in ``session.info`` with the transaction it belongs to: asking the session (and the
    connection for its driver connection) each time is a greenlet switch and the ORM's
    bookkeeping per read."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_HELD)
    if (
        isinstance(held, _Held)
        and transaction is not None
        and held.transaction is transaction
        and not held.connection.invalidated
        and not held.connection.closed
    ):
        return held
    connection = await session.connection()  # begins the transaction: the tenant is set
    adapted = (await connection.get_raw_connection()).dbapi_connection
    held = _Held(session.sync_session.get_transaction(), connection, adapted)
    session.info[_HELD] = held
    return held


def compiled_for(statement: Select[Any], dialect: Dialect) -> Compiled | None:
    """The statement as asyncpg runs it, or None when SQLAlchemy must run it (cached)."""
    try:
        return _COMPILED[statement]
    except KeyError:
        found = _COMPILED[statement] = _compile(statement, dialect)
        return found


def _compile(statement: Select[Any], dialect: Dialect) -> Compiled | None:
    compiled: Any = statement.compile(dialect=dialect)
    names = compiled.positiontup
    if names is None or compiled.post_compile_params or compiled.literal_execute_params:
        return None
    results = tuple(
        type_._cached_result_processor(dialect, None)
        for _key, _name, _objects, type_ in compiled._result_columns
    )
    processors = compiled._bind_processors
    converters = tuple(processors.get(name) for name in names)
    converting = results if any(results) else None
    return Compiled(compiled.string, tuple(names), converters, converting)


async def _fetch(
    held: _Held, compiled: Compiled, params: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    sync = held.connection.sync_connection
    assert sync is not None
    told = statement_events.before(sync, compiled.sql, _arguments(compiled, params))
    try:
        found = await _run(held.adapted, told)
    except BaseException as error:
        if _failed(sync, told, held.adapted, error):
            await held.connection.invalidate(error if isinstance(error, Exception) else None)
        reraise_lost(error)
    statement_events.after(sync, told)
    return _converted_rows(found, compiled)


def execute_in_greenlet(connection: Connection, statement: Any, params: Mapping[str, Any]) -> bool:
    """Run ``statement`` (no rows wanted) as :func:`rows` does, from SQLAlchemy's synchronous
    code (an event handler inside the async engine's greenlet); False when the connection is
    not asyncpg's or the statement must go through SQLAlchemy."""
    adapted = connection.connection.dbapi_connection
    compiled = compiled_for(statement, connection.dialect)
    if not hasattr(adapted, "_execute_mutex") or compiled is None:
        return False
    told = statement_events.before(connection, compiled.sql, _arguments(compiled, params))
    try:
        await_only(_run(adapted, told))
    except BaseException as error:
        if _failed(connection, told, adapted, error):
            connection.invalidate(error if isinstance(error, Exception) else None)
        reraise_lost(error)
    statement_events.after(connection, told)
    return True


def _arguments(compiled: Compiled, params: Mapping[str, Any]) -> list[Any]:
    return [
        params[name] if convert is None or params[name] is None else convert(params[name])
        for name, convert in zip(compiled.names, compiled.converters, strict=True)
    ]


async def _run(adapted: Any, told: statement_events.Told) -> list[Any]:
    """As SQLAlchemy's asyncpg cursor runs a statement: under the connection's mutex, the
    transaction started if need be, the statement from its prepared-statement cache."""
    async with adapted._execute_mutex:
        if adapted._transaction is None:
            await adapted._start_transaction()
        prepared, _ = await adapted._prepare(told.sql, 0)
        found: list[Any] = await prepared.fetch(*told.args)
        return found


def _failed(
    sync: Connection, told: statement_events.Told, adapted: Any, error: BaseException
) -> bool:
    """Tell the listeners; when the connection may be unusable (anything but the server's refusal
    of the statement: the server went away, a timeout, a cancellation), end it at once, without
    the polite close that would wait again on a silent network, and say so (to invalidate it)."""
    driver = adapted._connection
    lost = not isinstance(error, asyncpg.PostgresError) or driver.is_closed()
    statement_events.failed(sync, told, error, lost)
    if lost and not driver.is_closed():
        driver.terminate()
    return lost


def _converted_rows(found: list[Any], compiled: Compiled) -> Sequence[Sequence[Any]]:
    if compiled.results is None:
        return found
    return [_converted(row, compiled.results) for row in found]


def _converted(row: Sequence[Any], results: Sequence[_Convert | None]) -> tuple[Any, ...]:
    return tuple(
        value if convert is None else convert(value)
        for value, convert in zip(row, results, strict=True)
    )
