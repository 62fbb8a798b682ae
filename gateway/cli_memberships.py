"""``pilotgraph members leave|rejoin|transfer``: record a member's moves (docs/KPIS.md).

Each command is one transaction in the member's tenant: a refusal prints ``CODE: message``,
exits 1 and writes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from db.clock import utc_now
from db.errors import DomainError
from gateway.cli_members import members_app
from gateway.cli_settings import settings_or_exit
from tenants.errors import InvalidInput, TenantNotFound

Member = Annotated[str, typer.Argument(help="The member's UUID.")]
Tenant = Annotated[str, typer.Option(help="The member's tenant now (slug).")]
On = Annotated[str, typer.Option(help="The first day the move holds (YYYY-MM-DD, local).")]


@members_app.command("leave")
def leave(member: Member, tenant: Tenant, on: On) -> None:
    """Record that the member left the tenant: ``--on`` is their first day out."""
    from tenants.handbook import memberships

    _move(tenant, member, on, memberships.leave)
    typer.echo(f"member {member} of {tenant}: left, first day out {on}")


@members_app.command("rejoin")
def rejoin(member: Member, tenant: Tenant, on: On) -> None:
    """Record that a member who left is a member of the tenant again from ``--on``."""
    from tenants.handbook import memberships

    _move(tenant, member, on, memberships.rejoin)
    typer.echo(f"member {member} of {tenant}: a member again from {on}")


@members_app.command("transfer")
def transfer(
    member: Member,
    tenant: Tenant,
    on: On,
    to: Annotated[str, typer.Option("--to", help="Another tenant of the province (slug).")],
    branch: Annotated[str, typer.Option(help="The branch there (UUID).")],
) -> None:
    """Transfer the member to a branch of another tenant of the same province from ``--on``."""
    from tenants.handbook import memberships

    branch_id = _parsed(lambda: uuid.UUID(branch), "A branch id is a UUID.", "branch")
    _move(tenant, member, on, memberships.transfer, to_tenant_id=to, branch_id=branch_id)
    typer.echo(f"member {member}: transferred from {tenant} to {to} from {on}")


def _parsed(parse: Callable[[], Any], message: str, field: str) -> Any:
    try:
        return parse()
    except ValueError as exc:
        _refuse(InvalidInput(message, field=field))
        raise AssertionError from exc  # not reached: _refuse exits


def _refuse(error: DomainError) -> None:
    typer.secho(f"{error.code}: {error.message}", err=True, fg="red")
    raise typer.Exit(1)


def _move(
    tenant: str, member: str, on: str, move: Callable[..., Awaitable[None]], **extra: Any
) -> None:
    member_id = _parsed(lambda: uuid.UUID(member), "A member id is a UUID.", "member")
    day = _parsed(lambda: dt.date.fromisoformat(on), "--on is a date: YYYY-MM-DD.", "on")
    url = settings_or_exit().db_url
    try:
        asyncio.run(_run(url, tenant, move, member_id=member_id, on=day, **extra))
    except DomainError as exc:
        _refuse(exc)


async def _run(url: str, tenant: str, move: Callable[..., Awaitable[None]], **kwargs: Any) -> None:
    from db.engine import make_engine
    from db.sessions import make_sessionmaker, scope_session
    from tenants.handbook.memberships import province_today
    from tenants.read_model import all_tenants

    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            if tenant not in {t.tenant_id for t in await all_tenants(session=session)}:
                raise TenantNotFound(tenant)
        async with scope_session(sessions(), tenant) as session:
            today = await province_today(session, tenant, utc_now())
            await move(session=session, tenant_id=tenant, today=today, **kwargs)
            await session.commit()
    finally:
        await engine.dispose()
