"""``pilotgraph credentials …``: service credentials (API keys for OFREP) from the shell.

``create`` prints the key once (stdout, alone on its line, so a script can capture it); ``list``
never shows a secret; ``revoke`` takes the public id. A refusal prints its code and exits 1,
with nothing written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from db.clock import utc_now
from db.errors import DomainError
from gateway.cli_rollout import Province, province_of, with_session
from tenants.credentials import service
from tenants.errors import InvalidCredentialInput

credentials_app = typer.Typer(help="Service credentials: API keys for OFREP machine clients.")


def _run(work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    try:
        return asyncio.run(with_session(work))
    except DomainError as exc:  # the credential refusals, and PROVINCE_REQUIRED
        typer.secho(f"{exc.code}: {exc.message}", err=True, fg="red")
        raise typer.Exit(1) from exc


def _expiry(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidCredentialInput(
            "--expires-at must be an ISO 8601 time with its offset.", field="expiresAt"
        ) from exc


@credentials_app.command()
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for.")],
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="The one tenant it covers (default: province).")
    ] = None,
    expires_at: Annotated[
        str | None, typer.Option("--expires-at", help="ISO 8601 with offset; default: never.")
    ] = None,
    province: Province = None,
) -> None:
    """Create a key and print it, the only time it is shown."""

    async def work(session: AsyncSession) -> str:
        _, key = await service.create(
            session=session,
            province_id=await province_of(session, province),
            tenant_id=tenant,
            name=name,
            expires_at=_expiry(expires_at),
            now=utc_now(),
        )
        await session.commit()
        return key

    typer.echo(_run(work))


@credentials_app.command("list")
def list_command(province: Province = None) -> None:
    """The province's keys: id, scope, name, created, expires, revoked, last used."""

    async def work(session: AsyncSession) -> list[service.Credential]:
        province_id = await province_of(session, province)
        return await service.list_for(session=session, province_id=province_id)

    for c in _run(work):
        times = (c.created_at, c.expires_at, c.revoked_at, c.last_used_at)
        shown = "\t".join("-" if t is None else t.isoformat(timespec="seconds") for t in times)
        typer.echo(f"{c.id}\t{c.tenant_id or '(province)'}\t{c.name}\t{shown}")


@credentials_app.command()
def revoke(
    credential_id: Annotated[str, typer.Argument(help="The key's public id.")],
    province: Province = None,
) -> None:
    """Revoke a key: every gateway refuses it within 30 seconds."""

    async def work(session: AsyncSession) -> None:
        await service.revoke_or_raise(
            session=session,
            province_id=await province_of(session, province),
            credential_id=credential_id,
            now=utc_now(),
        )
        await session.commit()

    _run(work)
    typer.echo(f"revoked {credential_id}")
