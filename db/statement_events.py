"""The engine's statement listeners, told of a statement asyncpg runs without SQLAlchemy.

:mod:`db.reads` runs the hot reads on asyncpg directly; the listeners on the engine (the SQL spans
of OpenTelemetry's SQLAlchemy instrumentation, the statement counts of the tests, the
``handle_error`` listener of :mod:`db.engine` that drops a connection after a client-side
timeout) must see them as SQLAlchemy's own execution shows them: ``before_cursor_execute`` (whose
listeners may rewrite the statement and its parameters), then ``after_cursor_execute``, or
``handle_error`` with an exception context when the statement fails. :class:`Execution` stands in
for SQLAlchemy's execution context, on which a listener keeps what it needs between the two
(OpenTelemetry its span). There is no cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.engine.base import ExceptionContextImpl


class Execution:
    """Stands in for SQLAlchemy's execution context: listeners may keep attributes on it."""


@dataclass(slots=True)
class Told:
    """A statement as the listeners left it, and the execution they saw (None: none listens)."""

    sql: str
    args: list[Any]
    execution: Execution | None


def before(sync: Connection, sql: str, args: list[Any]) -> Told:
    """``before_cursor_execute``, as SQLAlchemy calls it (every listener returns the statement
    and parameters, rewritten or not)."""
    if not (sync._has_events or sync.engine._has_events):  # as SQLAlchemy decides it
        return Told(sql, args, None)
    execution = Execution()
    for listener in sync.dispatch.before_cursor_execute:
        sql, args = listener(sync, None, sql, args, execution, False)
    return Told(sql, args, execution)


def after(sync: Connection, told: Told) -> None:
    if told.execution is not None:
        sync.dispatch.after_cursor_execute(sync, None, told.sql, told.args, told.execution, False)


def failed(sync: Connection, told: Told, error: BaseException, disconnect: bool) -> None:
    """``handle_error`` (the dialect's event since SQLAlchemy 2.0). A listener that raises
    replaces the statement's exception, as in SQLAlchemy; what one returns or sets on the
    context is not acted on: the caller invalidates the connection itself when it may be
    unusable."""
    if not sync.dialect._has_events:
        return
    context = ExceptionContextImpl(
        error,
        None,
        sync.engine,
        sync.dialect,
        sync,
        None,
        told.sql,
        told.args,
        told.execution,  # type: ignore[arg-type]
        disconnect,
        True,
        False,
    )
    for listener in sync.dialect.dispatch.handle_error:
        listener(context)
