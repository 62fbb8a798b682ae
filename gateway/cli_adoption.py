"""``pilotgraph adoption …``: the adoption data's lifecycle (retention of raw events)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from adoption.errors import AdoptionError
from db.clock import utc_now
from gateway.cli_settings import settings_or_exit

if TYPE_CHECKING:
    from adoption.expiry import Expiry

adoption_app = typer.Typer(help="The app's events: retention.")


@adoption_app.command("retention")
def retention(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be removed; remove nothing.")
    ] = False,
    months: Annotated[
        int | None,
        typer.Option(help="Age in months (default: PILOTGRAPH_EVENT_RETENTION_MONTHS, 13)."),
    ] = None,
) -> None:
    """Remove raw events older than the retention age, whole months at a time (rollups stay)."""
    settings = settings_or_exit()
    age = settings.event_retention_months if months is None else months
    try:
        outcome = asyncio.run(_expire(settings.db_url, age, dry_run))
    except AdoptionError as exc:
        typer.secho(f"{exc.code}: {exc.message}", err=True, fg="red")
        raise typer.Exit(1) from exc
    _report(outcome)


async def _expire(url: str, months: int, dry_run: bool) -> Expiry:
    from adoption import expiry
    from db.engine import make_engine
    from db.sessions import make_sessionmaker
    from tenants.read_model import all_tenants

    expiry.cutoff(now=utc_now(), months=months)  # a bad age is refused before connecting
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            tenant_ids = [t.tenant_id for t in await all_tenants(session=session)]
        return await expiry.expire(
            sessions=sessions, tenant_ids=tenant_ids, now=utc_now(), months=months, dry_run=dry_run
        )
    finally:
        await engine.dispose()


def _report(outcome: Expiry) -> None:
    if outcome.skipped:
        typer.echo("another process is removing old events now; nothing done")
        return
    verb = "would remove" if outcome.dry_run else "removed"
    before = outcome.cutoff.date().isoformat()
    typer.echo(f"{verb} {outcome.total} events before {before} (UTC); rollups and KPIs stay")
    for tenant_id, count in sorted(outcome.events.items()):
        typer.echo(f"  {tenant_id}: {count} events")
    for partition in outcome.partitions:
        typer.echo(f"  partition {partition}")
