"""``INSERT … ON CONFLICT`` for whichever backend the session is bound to, executed for many rows.

Rows are passed as ``executemany`` parameters, never rendered into one statement: SQLAlchemy's
"insertmanyvalues" then sends multi-row ``VALUES`` batches from one cached compiled statement
(compiling a fresh 500-row ``VALUES`` per request costs more than the database work).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Result
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


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
