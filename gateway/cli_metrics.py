"""``pilotgraph metrics``: rebuild adoption rollups from the stored events."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from db.clock import utc_now
from gateway.cli_settings import settings_or_exit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    Sessions = async_sessionmaker[AsyncSession]

metrics_app = typer.Typer(help="Adoption metrics: rollups of the app's events.")


@metrics_app.command("rebuild")
def rebuild(
    since: Annotated[
        dt.datetime | None,
        typer.Option(
            "--from", formats=["%Y-%m-%d"], help="First local day (its month is rebuilt)."
        ),
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="One tenant (slug); default: all.")] = None,
) -> None:
    """Recompute the rollups from events (all, or from the month of --from), with a progress bar."""

    asyncio.run(_rebuild(settings_or_exit().db_url, since.date() if since else None, tenant))


async def _rebuild(url: str, since: dt.date | None, only: str | None) -> None:
    from db.engine import make_engine
    from db.sessions import make_sessionmaker

    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        tenants = await _tenants_to_rebuild(sessions, only)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns) as bar:
            for tenant_id, timezone in tenants:
                await _rebuild_tenant(sessions, bar, tenant_id, timezone, since)
        await _analyze(sessions)
        typer.echo(f"rebuilt rollups of {len(tenants)} tenants")
    finally:
        await engine.dispose()


async def _tenants_to_rebuild(sessions: Sessions, only: str | None) -> list[tuple[str, str]]:
    """(tenant, time zone) of every tenant, or of ``only``; the partitions ahead made first."""
    from adoption.partitions import ensure_ahead
    from tenants.read_model import all_tenants

    async with sessions() as session:
        tenants = [
            (t.tenant_id, t.timezone)
            for t in await all_tenants(session=session)
            if only in (None, t.tenant_id)
        ]
        await ensure_ahead(session, now=utc_now())
        await session.commit()
    return tenants


async def _rebuild_tenant(
    sessions: Sessions, bar: Progress, tenant_id: str, timezone: str, since: dt.date | None
) -> None:
    """Rebuild one tenant's rollups, counting its events first for the progress bar."""
    from adoption import rollups
    from adoption.calendar import day_start, month_of, zone
    from db.sessions import scope_session

    tz = zone(timezone)
    async with scope_session(sessions(), tenant_id) as session:
        start = day_start(month_of(since), tz) if since else None
        total = await rollups.count_events(session=session, tenant_id=tenant_id, since=start)
    task = bar.add_task(f"rebuilding {tenant_id}", total=total)
    # A month per transaction: ingest keeps going meanwhile (SQLite's write lock).
    await rollups.rebuild_in_chunks(
        _tenant_sessions(sessions, tenant_id),
        tenant_id=tenant_id,
        tz=tz,
        since=since,
        progress=_advance(bar, task),
    )


async def _analyze(sessions: Sessions) -> None:
    """Refresh the planner's statistics of the rebuilt tables."""
    from adoption import rollups
    from tenants import statistics

    async with sessions() as session:
        await statistics.analyze(session, rollups.REBUILT)
        await session.commit()


def _tenant_sessions(sessions: Any, tenant_id: str) -> Callable[[], Any]:
    from db.sessions import scope_session

    return lambda: scope_session(sessions(), tenant_id)


def _advance(bar: Progress, task: TaskID) -> Callable[[int], None]:
    return lambda count: bar.update(task, advance=count)
