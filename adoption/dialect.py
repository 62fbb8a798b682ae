"""``INSERT … ON CONFLICT`` for whichever backend the session is bound to, executed for many rows.

Rows are passed as ``executemany`` parameters, never rendered into one statement: SQLAlchemy's
"insertmanyvalues" then sends multi-row ``VALUES`` batches from one cached compiled statement
(compiling a fresh 500-row ``VALUES`` per request costs more than the database work).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Date, DateTime, Result, cast, func, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import is_postgres


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
