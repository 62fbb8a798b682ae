"""``pilotgraph webhook …``: a province's webhook endpoints and their delivery log.

Changes are audited under ``--actor`` (or ``PILOTGRAPH_ACTOR``) in one province (``--province``,
or ``PILOTGRAPH_PROVINCE``; by default the only province when there is one).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from db.clock import utc_now
from gateway.cli_rollout import Actor, Province, _run, province_of
from gateway.cli_settings import settings_or_exit
from gateway.state import webhook_origins
from rollout.errors import WebhookNotFound
from rollout.webhooks import endpoints, log
from rollout.webhooks.models import DeliveryStatus, EventType

webhook_app = typer.Typer(help="Post rollout events to other systems: endpoints and deliveries.")

EndpointId = Annotated[
    str, typer.Argument(help="The endpoint's id (see `pilotgraph webhook list`).")
]


def _endpoint_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise WebhookNotFound() from None


def _write(province: str | None, fn: Any, **kwargs: Any) -> Any:
    async def work(session: AsyncSession) -> Any:
        province_id = await province_of(session, province)
        row = await fn(session=session, province_id=province_id, now=utc_now(), **kwargs)
        await session.commit()
        return row

    return _run(work)


@webhook_app.command("add")
def add_command(
    url: Annotated[str, typer.Argument(help="http(s) URL that receives the events.")],
    actor: Actor,
    event: Annotated[
        list[EventType] | None, typer.Option("--event", help="Repeat; default: every kind.")
    ] = None,
    description: Annotated[str, typer.Option("--description")] = "",
    province: Province = None,
) -> None:
    """Add an endpoint; prints its id and its signing secret (shown only now)."""
    row = _write(
        province,
        endpoints.create,
        url=url,
        events=event or [],
        description=description,
        own=webhook_origins(settings_or_exit()),
        actor=actor,
    )
    typer.echo(f"{row.id} {row.url} events={','.join(row.event_types)}")
    typer.echo(f"secret: {row.secret}")


@webhook_app.command("list")
def list_command(province: Province = None) -> None:
    """The province's endpoints (never their secrets)."""

    async def work(session: AsyncSession) -> Any:
        province_id = await province_of(session, province)
        return await endpoints.list_for(session=session, province_id=province_id)

    for row in _run(work):
        typer.echo(f"{row.id} {row.url} events={','.join(row.event_types)} {row.description}")


@webhook_app.command("rotate")
def rotate_command(endpoint: EndpointId, actor: Actor, province: Province = None) -> None:
    """A new signing secret for the endpoint (prints it, once)."""
    row = _write(province, endpoints.rotate_secret, endpoint_id=_endpoint_id(endpoint), actor=actor)
    typer.echo(f"secret: {row.secret}")


@webhook_app.command("remove")
def remove_command(endpoint: EndpointId, actor: Actor, province: Province = None) -> None:
    """Stop posting to the endpoint; its deliveries and their log go with it."""
    row = _write(province, endpoints.remove, endpoint_id=_endpoint_id(endpoint), actor=actor)
    typer.echo(f"removed {row.id} {row.url}")


@webhook_app.command("deliveries")
def deliveries_command(
    status: Annotated[DeliveryStatus | None, typer.Option("--status")] = None,
    first: Annotated[int, typer.Option("--first", min=1, max=500)] = 50,
    province: Province = None,
) -> None:
    """The delivery log, newest first: each delivery and its attempts."""

    async def work(session: AsyncSession) -> Any:
        province_id = await province_of(session, province)
        return await log.deliveries(
            session=session, province_id=province_id, status=status, limit=first
        )

    for entry in _run(work):
        d = entry.delivery
        typer.echo(f"{entry.event.type} {entry.event.id} → {entry.url}: {d.status}")
        for a in entry.attempts:
            typer.echo(f"  #{a.attempt} {a.at.isoformat()} {a.status_code or '-'} {a.error}")
