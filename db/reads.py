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
a cancellation) invalidates it, as SQLAlchemy does for a disconnect.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import asyncpg
from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.connections import ConnectionLost
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
        connection = await _connection(session)
        chosen = statement if postgres is None else postgres
        compiled = compiled_for(chosen, connection.dialect)
        if compiled is not None:
            return await _fetch(connection, compiled, params)
        statement = chosen
    found: Sequence[Sequence[Any]] = (await session.execute(statement, params)).all()
    return found


async def _connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection in its transaction, begun (and the tenant set) if need be.

    Kept in ``session.info`` with the transaction it belongs to: asking the session each time
    is a greenlet switch and the ORM's bookkeeping per read."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_HELD)
    if held is not None and transaction is not None and held[0] is transaction:
        connection: AsyncConnection = held[1]
        if not connection.invalidated and not connection.closed:
            return connection
    connection = await session.connection()  # begins the transaction: the tenant is set
    session.info[_HELD] = (session.sync_session.get_transaction(), connection)
    return connection


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
    connection: AsyncConnection, compiled: Compiled, params: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    args = [
        params[name] if convert is None or params[name] is None else convert(params[name])
        for name, convert in zip(compiled.names, compiled.converters, strict=True)
    ]
    sync = connection.sync_connection
    assert sync is not None
    listened = sync._has_events or sync.engine._has_events  # as SQLAlchemy decides it
    if listened:
        sync.dispatch.before_cursor_execute(sync, None, compiled.sql, args, None, False)
    adapted: Any = (await connection.get_raw_connection()).dbapi_connection
    try:
        async with adapted._execute_mutex:
            if adapted._transaction is None:
                await adapted._start_transaction()
            prepared, _ = await adapted._prepare(compiled.sql, 0)
            found: list[Any] = await prepared.fetch(*args)
    except BaseException as error:
        if not isinstance(error, asyncpg.PostgresError) or adapted._connection.is_closed():
            await connection.invalidate(error if isinstance(error, Exception) else None)
        if isinstance(error, asyncpg.exceptions.InternalClientError):
            raise ConnectionLost(f"the connection broke: {error}") from error
        raise
    if listened:
        sync.dispatch.after_cursor_execute(sync, None, compiled.sql, args, None, False)
    if compiled.results is None:
        return found
    return [_converted(row, compiled.results) for row in found]


def _converted(row: Sequence[Any], results: Sequence[_Convert | None]) -> tuple[Any, ...]:
    return tuple(
        value if convert is None else convert(value)
        for value, convert in zip(row, results, strict=True)
    )
