"""``pilotgraph members erase``: a member's personal data erased on request (Decree 13/2023)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer

from db.clock import utc_now
from db.errors import DomainError
from gateway.cli_settings import settings_or_exit
from tenants.errors import InvalidInput, TenantNotFound
from tenants.handbook.erasure import Erasure

members_app = typer.Typer(help="Members' personal data.")


@members_app.command("erase")
def erase(
    member: Annotated[str, typer.Argument(help="The member's UUID (the token's member id).")],
    tenant: Annotated[str, typer.Option(help="The member's tenant (slug).")],
    actor: Annotated[
        str, typer.Option("--actor", envvar="PILOTGRAPH_ACTOR", help="Who erases (audited).")
    ],
) -> None:
    """Erase the member's personal fields; anonymise their events and devices (KPIs stay)."""
    url = settings_or_exit().db_url
    try:
        done = asyncio.run(_erase(url, tenant, _member_id(member), actor.strip()))
    except DomainError as exc:
        typer.secho(f"{exc.code}: {exc.message}", err=True, fg="red")
        raise typer.Exit(1) from exc
    typer.echo(
        f"erased member {done.member_id} of {tenant}: personal fields blanked, "
        f"{done.events} events and {done.devices} devices anonymised; audited as {done.actor}"
    )


def _member_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        refused = InvalidInput(f"A member id is a UUID; got {text!r}.", field="member")
        typer.secho(f"{refused.code}: {refused.message}", err=True, fg="red")
        raise typer.Exit(1) from exc


async def _erase(url: str, tenant: str, member_id: uuid.UUID, actor: str) -> Erasure:
    from adoption import erasure
    from db.engine import make_engine
    from db.sessions import make_sessionmaker, scope_session
    from tenants.read_model import all_tenants

    if not actor or len(actor) > 200:
        raise InvalidInput("--actor names who erases: 1 to 200 characters.", field="actor")
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            if tenant not in {t.tenant_id for t in await all_tenants(session=session)}:
                raise TenantNotFound(tenant)
        async with scope_session(sessions(), tenant) as session:
            done = await erasure.erase_member(
                session=session, tenant_id=tenant, member_id=member_id, actor=actor, now=utc_now()
            )
            await session.commit()
            return done
    finally:
        await engine.dispose()
