"""Planner statistics after bulk writes: ``ANALYZE`` the tables a bulk path filled.

PostgreSQL plans from statistics that autovacuum refreshes only some time after a bulk load
(never, where it is off): until then a freshly loaded table looks empty and a join over it
may take a nested loop over millions of rows. Every bulk path (``demo load``, ``metrics
rebuild``) calls :func:`analyze` on what it filled once it has committed.

The application's role owns no table, so it analyzes through ``app_analyze`` (migration 0007,
SECURITY DEFINER). SQLite's planner does well without statistics here: nothing to do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.dialect import is_postgres

logger = logging.getLogger("pilotgraph.statistics")


async def analyze(bind: AsyncSession | AsyncConnection, tables: Sequence[str]) -> bool:
    """Refresh the statistics of ``tables`` in the bind's transaction (the caller commits).

    True when they were analyzed; False on SQLite, or when the role may not run
    ``app_analyze`` (logged with the fix: a stale plan is slow, not wrong).
    """
    if not tables or not is_postgres(bind):
        return False
    try:
        async with bind.begin_nested():
            await bind.execute(text("SELECT app_analyze(:tables)"), {"tables": list(tables)})
    except DBAPIError as error:
        logger.warning(
            "could not refresh the planner's statistics of %s (%s); run "
            "`pilotgraph db create-app-role` after migrating, or ANALYZE them as the owner",
            ", ".join(tables),
            error.orig,
        )
        return False
    return True
