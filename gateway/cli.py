"""``pilotgraph``: serve, migrate, load the demo, issue development tokens, export the schema."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from db.clock import utc_now
from gateway import (
    cli_config,  # noqa: F401  (adds `rollout export` and `rollout import`)
    cli_memberships,  # noqa: F401  (adds `members leave`, `rejoin` and `transfer`)
    migrate,
)
from gateway.cli_adoption import adoption_app
from gateway.cli_credentials import credentials_app
from gateway.cli_members import members_app
from gateway.cli_metrics import metrics_app
from gateway.cli_rollout import rollout_app
from gateway.cli_settings import settings_or_exit
from gateway.cli_webhooks import webhook_app
from tenants.types import PROVINCE_ROLES, Role

app = typer.Typer(help="PilotGraph: stage a pilot across a province while watching adoption.")
db_app = typer.Typer(help="Database migrations and roles.")
demo_app = typer.Typer(help="The Ninh Binh demo province, and Ha Nam beside it.")
schema_app = typer.Typer(help="The GraphQL schema.")
app.add_typer(db_app, name="db")
app.add_typer(demo_app, name="demo")
app.add_typer(schema_app, name="schema")
app.add_typer(metrics_app, name="metrics")
app.add_typer(adoption_app, name="adoption")
app.add_typer(members_app, name="members")
app.add_typer(rollout_app, name="rollout")
app.add_typer(webhook_app, name="webhook")
app.add_typer(credentials_app, name="credentials")

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "schema.graphql"


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
) -> None:
    """Run the gateway with uvicorn; metrics of every worker on the private metrics port."""
    import uvicorn

    from gateway.observability.listener import ListenerError, metrics_listener

    settings = settings_or_exit()
    try:
        with metrics_listener(settings.metrics_host, settings.metrics_port):
            uvicorn.run(
                "gateway.app:serve_app",
                factory=True,
                host=host or settings.host,
                port=port or settings.port,
                workers=workers,
                log_level=settings.log_level,
                log_config=None,  # serve_app configures structured logging for every logger
                # After SIGTERM: requests in flight get this long, then are cancelled; the
                # lifespan's stop is bounded too (gateway.app.STOP_TIMEOUT_S per part).
                timeout_graceful_shutdown=max(1, round(settings.shutdown_timeout_s)),
            )
    except ListenerError as exc:
        typer.secho(str(exc), err=True, fg="red")
        raise typer.Exit(1) from exc


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations (with the admin URL when one is configured)."""
    migrate.upgrade(settings_or_exit().db_admin_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("create-app-role")
def db_create_app_role(
    name: Annotated[str, typer.Option(help="Role the gateway connects as.")] = "pilotgraph_app",
    password: Annotated[str | None, typer.Option(help="Login password, if any.")] = None,
) -> None:
    """Create (or update) the application's role: LOGIN, NOSUPERUSER, NOBYPASSRLS, DML grants."""
    from gateway.roles import create_app_role

    asyncio.run(create_app_role(settings_or_exit().db_admin_url, name=name, password=password))
    typer.echo(f"role {name} ready (no BYPASSRLS; row-level security applies)")


@demo_app.command("load")
def demo_load(
    if_empty: Annotated[bool, typer.Option(help="Do nothing if tenants exist.")] = False,
) -> None:
    """Load the demo: Ninh Binh (12 tenants, 75,180 members) and a small second province (Ha
    Nam); loading twice adds nothing."""
    from tenants.demo.province import PROVINCES

    tenants = [t for province in PROVINCES for t in province.tenants]
    asyncio.run(_demo_load(if_empty, len(tenants), sum(t.members for t in tenants)))


async def _demo_load(if_empty: bool, tenant_count: int, total: int) -> None:
    from sqlalchemy import func, select

    from adoption.kpi_source import AdoptionKpis
    from db.sessions import make_sessionmaker
    from rollout.demo import TIMEZONE, load_demo_plan, load_other_province_plan
    from tenants.models import Tenant

    engine = _loader_engine()
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            existing = await session.scalar(select(func.count()).select_from(Tenant))
        if if_empty and existing:
            typer.echo(f"{existing} tenants present; demo load skipped")
            return
        now = utc_now()
        today = now.astimezone(ZoneInfo(TIMEZONE)).date()  # the province's local date
        report = await _load_tenants(sessions, today, tenant_count, total)
        typer.echo(f"loaded {len(report.loaded)} tenants, skipped {len(report.skipped)} present")
        await _demo_events(sessions, today, now)
        typer.echo(await load_demo_plan(sessionmaker=sessions, now=now, kpis=AdoptionKpis()))
        typer.echo(await load_other_province_plan(sessionmaker=sessions, now=now))
    finally:
        await engine.dispose()


async def _load_tenants(sessions: Any, today: dt.date, tenant_count: int, total: int) -> Any:
    """Load the demo province's tenants, with a progress bar."""
    from tenants.demo.load import load_demo

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn()) as bar:
        task = bar.add_task(f"loading {tenant_count} tenants", total=total)
        return await load_demo(
            sessionmaker=sessions,
            today=today,
            progress=lambda slug, members: bar.update(
                task, advance=members, description=f"loaded {slug}"
            ),
        )


def _loader_engine() -> Any:
    """An engine with the configured timeouts: a loader on a busy machine may raise them."""
    from db.engine import make_engine

    settings = settings_or_exit()
    return make_engine(
        settings.db_url,
        statement_timeout_ms=settings.database_statement_timeout_ms,
        command_timeout_s=settings.database_command_timeout_s,
    )


async def _demo_events(sessions: Any, today: dt.date, now: dt.datetime) -> None:
    """Simulate the app's events for the pilot and wave-1 districts (adoption)."""
    from adoption.demo_events import simulate
    from adoption.rollups import FILLED
    from tenants import statistics

    written = await simulate(sessionmaker=sessions, today=today, now=now)
    async with sessions() as session:
        await statistics.analyze(session, FILLED)
        await session.commit()
    typer.echo("simulated app events: " + ", ".join(f"{t} {n}" for t, n in written.items()))


@app.command()
def token(
    role: Annotated[Role, typer.Option(help="Role carried by the token.")] = Role.MEMBER,
    tenant: Annotated[str | None, typer.Option(help="Home tenant (slug).")] = None,
    member: Annotated[str | None, typer.Option(help="Member id; default: a demo member.")] = None,
    province: Annotated[
        str | None, typer.Option(help="Province (province roles); default: the demo province.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name (the audit shows it).")] = None,
) -> None:
    """Print a development token (refused when the settings say production)."""
    from gateway.auth import AuthError, issue_development_token
    from tenants.demo.province import PROVINCE_ID

    settings = settings_or_exit()
    if settings.is_production:
        typer.secho("refused: development tokens are not issued in production", err=True, fg="red")
        raise typer.Exit(1)
    if tenant is None and role not in PROVINCE_ROLES:
        typer.secho(f"--tenant is required for role {role.value}", err=True, fg="red")
        raise typer.Exit(2)
    subject = _member_subject(member) if member else None
    if subject is None:
        subject = asyncio.run(_demo_subject(tenant, role)) if tenant else f"{role.value}@province"
    if role in PROVINCE_ROLES:
        province = province or PROVINCE_ID  # a province role's token always names its province
    try:
        token = issue_development_token(
            settings, subject=subject, roles=[role], tenant=tenant, province=province, name=name
        )
        typer.echo(token)
    except AuthError as exc:
        typer.secho(exc.message, err=True, fg="red")
        raise typer.Exit(1) from exc


def _member_subject(member: str) -> str:
    try:
        return str(uuid.UUID(member))
    except ValueError:
        from schema.relay import InvalidId, decode_id

        try:
            return str(decode_id("Member", member))
        except InvalidId as exc:
            typer.secho(exc.message, err=True, fg="red")
            raise typer.Exit(2) from exc


async def _demo_subject(tenant: str, role: Role) -> str:
    from db.engine import make_engine
    from db.sessions import make_sessionmaker, scope_session
    from tenants.demo.build import MEMBER, SECRETARY
    from tenants.handbook.read_model import first_member_with_position

    position = {Role.MEMBER: MEMBER, Role.BRANCH_SECRETARY: SECRETARY}.get(role)
    engine = make_engine(settings_or_exit().db_url)
    try:
        async with scope_session(make_sessionmaker(engine)(), tenant) as session:
            found = await first_member_with_position(
                session=session, tenant_id=tenant, position=position
            )
    finally:
        await engine.dispose()
    if found is None:
        return f"{role.value}@{tenant}"
    return str(found)


@schema_app.command("export")
def schema_export(path: Path = SCHEMA_PATH) -> None:
    """Write the schema's SDL (``schema/schema.graphql``)."""
    from schema.root import sdl

    path.write_text(sdl(), encoding="utf-8")
    typer.echo(f"wrote {path}")
