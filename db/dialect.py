"""Which backend a URL or a live bind speaks, and the few statements that differ between them.

PilotGraph runs on two backends, SQLite (embedded default) and PostgreSQL (production); code that
differs between them asks :func:`is_postgres`, whatever it holds: the configured URL before an
engine exists, or the engine, connection or session it works with.

``INSERT … ON CONFLICT`` (:func:`insert`) and the start of a week or month (:func:`period_start`)
are spelled per backend here, so no domain checks the dialect inline. Rows are passed to
:func:`execute_many` as ``executemany`` parameters, never rendered into one statement:
SQLAlchemy's "insertmanyvalues" then sends multi-row ``VALUES`` batches from one cached compiled
statement (compiling a fresh 500-row ``VALUES`` per request costs more than the database work).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Date, DateTime, Result, cast, func, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

Bind = (
    str
    | URL
    | Dialect
    | Engine
    | Connection
    | AsyncEngine
    | AsyncConnection
    | Session
    | AsyncSession
)

POSTGRESQL = "postgresql"


def is_postgres(bind: Bind) -> bool:
    """True when ``bind`` (a URL, a dialect, an engine, a connection or a session) is PostgreSQL."""
    return _backend(bind) == POSTGRESQL


def _backend(bind: Bind) -> str:
    if isinstance(bind, str):  # "postgresql+asyncpg://…", "sqlite+aiosqlite:///…"
        return bind.split(":", 1)[0].split("+", 1)[0]
    if isinstance(bind, URL):
        return bind.get_backend_name()
    if isinstance(bind, Dialect):
        return bind.name
    if isinstance(bind, Session | AsyncSession):
        return bind.get_bind().dialect.name
    return bind.dialect.name


def insert(session: AsyncSession, model: Any) -> Any:
    """The dialect's ``insert`` into ``model``'s table (with ``on_conflict_do_*``)."""
    module: Any = postgresql if is_postgres(session) else sqlite
    return module.insert(model.__table__)


async def execute_many(
    session: AsyncSession, statement: Any, rows: Sequence[dict[str, Any]]
) -> Result[Any] | None:
    """Run ``statement`` for every row (None when there are none)."""
    if not rows:
        return None
    connection = await session.connection()
    result: Result[Any] = await connection.execute(statement, list(rows))
    return result


def period_start(session: AsyncSession, day: Any, unit: str) -> Any:
    """SQL for the first day of ``day``'s calendar month (``unit="month"``) or ISO week
    (``"week"``, a Monday), as a ``Date``; ``day`` is a DATE column."""
    if unit not in ("week", "month"):
        raise ValueError(f"unknown period unit {unit!r}")
    if is_postgres(session):
        return cast(func.date_trunc(unit, cast(day, DateTime())), Date())
    if unit == "month":
        return type_coerce(func.strftime("%Y-%m-01", day), Date())
    return type_coerce(func.date(day, "-6 days", "weekday 1"), Date())
