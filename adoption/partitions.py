"""Monthly partitions of ``adoption_events`` on PostgreSQL, created ahead by the product.

Migration 0003 defines ``adoption_ensure_partitions(first, last)``: a ``SECURITY DEFINER``
function owned by the migration's role, so that the application's role (which may not create
tables) can still have next month's partition made. Ingest calls it for the months of its batch,
``pilotgraph metrics rebuild`` and the demo for theirs. SQLite keeps one plain table.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialect import is_postgres

MONTHS_AHEAD = 2


async def ensure_partitions(session: AsyncSession, *, first: dt.datetime, last: dt.datetime) -> int:
    """Make sure every UTC month from ``first`` to ``last`` has a partition; returns how many
    were created (always 0 on SQLite)."""
    if not is_postgres(session):
        return 0
    created = await session.scalar(
        text("SELECT adoption_ensure_partitions(CAST(:first AS date), CAST(:last AS date))"),
        {"first": first.astimezone(dt.UTC).date(), "last": last.astimezone(dt.UTC).date()},
    )
    return int(created or 0)


async def ensure_ahead(session: AsyncSession, *, now: dt.datetime) -> int:
    """Partitions for the current month and the next ``MONTHS_AHEAD``."""
    return await ensure_partitions(
        session, first=now, last=now + dt.timedelta(days=31 * MONTHS_AHEAD)
    )
