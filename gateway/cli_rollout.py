"""``pilotgraph rollout …``: read and drive a flag's rollout plan from the shell.

Every change is audited under ``--actor`` (or ``PILOTGRAPH_ACTOR``), committed, and broadcast
so running gateways pick it up at once. Each command acts in one province's rollout
(``--province``, or ``PILOTGRAPH_PROVINCE``; by default the only province when there is one).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.broadcast import notify
from db.clock import utc_now
from gateway.cli_forecast import echo_forecast
from gateway.cli_settings import settings_or_exit
from gateway.state import kpi_source
from rollout import forecast, guardrail, status, waves
from rollout.errors import RolloutError
from rollout.guardrail import Outcome, WaveCheck
from rollout.snapshot import CHANNEL
from tenants.models import Province as ProvinceRow

rollout_app = typer.Typer(help="Drive a flag's rollout plan: waves, gates, approvals.")

Actor = Annotated[
    str, typer.Option("--actor", envvar="PILOTGRAPH_ACTOR", help="Who acts (audited).")
]
Reason = Annotated[str, typer.Option("--reason", help="Why (audited).")]
Flag = Annotated[str, typer.Argument(help="Flag key, e.g. handbook.")]
Province = Annotated[
    str | None,
    typer.Option(
        "--province",
        envvar="PILOTGRAPH_PROVINCE",
        help="The province whose rollout (default: the only province, when there is one).",
    ),
]
VERDICTS = {
    Outcome.PAUSED: "paused",
    Outcome.WOULD_PAUSE: "would pause",
    Outcome.FELL: "fell too; paused for a wave that fell further",
    Outcome.HOLDS: "holds",
    Outcome.TOO_FEW: "too few active members to judge",
    Outcome.RECENTLY_PAUSED: "its fall paused the plan in the last 7 days; not judged again",
}


async def with_session(work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    from db.engine import make_engine
    from db.sessions import make_sessionmaker

    engine = make_engine(settings_or_exit().db_url)
    try:
        async with make_sessionmaker(engine)() as session:
            return await work(session)
    finally:
        await engine.dispose()


class ProvinceRequired(RolloutError):
    code = "PROVINCE_REQUIRED"


async def province_of(session: AsyncSession, chosen: str | None) -> str:
    """``chosen``, or the only province there is."""
    if chosen is not None:
        return chosen
    provinces = list(await session.scalars(select(ProvinceRow.id).limit(2)))
    if len(provinces) != 1:
        raise ProvinceRequired("Choose a province with --province: there is more than one.")
    return provinces[0]


def _change(
    flag: str, province: str | None, fn: Callable[..., Awaitable[Any]], **kwargs: Any
) -> Any:
    """Run one rollout write, commit and broadcast it; exit 1 with the error's code if refused."""

    async def work(session: AsyncSession) -> Any:
        province_id = await province_of(session, province)
        result = await fn(
            session=session, province_id=province_id, flag_key=flag, now=utc_now(), **kwargs
        )
        await session.commit()
        await notify(session, CHANNEL, flag)
        return result

    return _run(work)


def _run(work: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
    """Run ``work`` in a session; exit 1 with the error's code if the rollout refuses it."""
    try:
        return asyncio.run(with_session(work))
    except RolloutError as exc:
        typer.secho(f"{exc.code}: {exc.message}", err=True, fg="red")
        raise typer.Exit(1) from exc


def _echo_step(outcome: waves.StepOutcome) -> None:
    plan = outcome.view.plan
    if outcome.applied:
        typer.echo(
            f"{plan.flag_key}: {plan.status}, wave {plan.current_wave} step {plan.current_step}"
        )
    else:
        assert outcome.approval is not None
        typer.echo(
            f"awaiting a second province admin: pilotgraph rollout approve {outcome.approval.id}"
        )


@rollout_app.command("status")
def status_command(flag: Flag, province: Province = None) -> None:
    """Each tenant's state, each wave's gate now, pending approvals and the wave forecast."""

    async def work(session: AsyncSession) -> None:
        province_id = await province_of(session, province)
        now = utc_now()
        report = await status.report(
            session=session, province_id=province_id, flag_key=flag, kpis=kpi_source(), now=now
        )
        if report is None:
            typer.secho(
                f"PLAN_NOT_FOUND: The flag {flag!r} has no rollout plan.", err=True, fg="red"
            )
            raise typer.Exit(1)
        _echo_report(flag, report)
        pending = await waves.pending_approvals(
            session=session, province_id=province_id, flag_key=flag
        )
        for approval in pending:
            typer.echo(f"  pending approval {approval.id} requested by {approval.requested_by}")
        found = await forecast.forecast(
            session=session, province_id=province_id, flag_key=flag, kpis=kpi_source(), now=now
        )
        if found is not None:
            echo_forecast(found)

    _run(work)


def _echo_report(flag: str, report: status.Report) -> None:
    """The plan's position, then each wave with its gate, then each tenant's state."""
    plan = report.view.plan
    typer.echo(f"{flag}: {plan.status}, wave {plan.current_wave} step {plan.current_step}")
    for position, wave in enumerate(report.view.waves):
        gate = report.gates[position]
        verdict = "no gate" if gate is None else ("passes" if gate.passed else "fails")
        ramp = " → ".join(f"{bp / 100:g}%" for bp in wave.ramp)
        typer.echo(f"  wave {position} {wave.name!r} ramp {ramp}; gate {verdict}")
    for tenant in report.tenants:
        since = tenant.since.isoformat() if tenant.since else "-"
        percentage = f"{tenant.basis_points / 100:>6g}%"
        typer.echo(
            f"    {tenant.tenant_id:<16} wave {tenant.wave} {percentage} "
            f"{tenant.state:<8} since {since}"
        )


@rollout_app.command()
def start(flag: Flag, actor: Actor, province: Province = None) -> None:
    """Start the plan: wave 0 at its first ramp step."""
    _echo_step(
        _change(
            flag,
            province,
            waves.step_forward,
            action=waves.Action.START,
            actor=actor,
            kpis=kpi_source(),
        )
    )


@rollout_app.command()
def advance(
    flag: Flag,
    actor: Actor,
    override_reason: Annotated[
        str | None, typer.Option(help="Advance through a failing gate, saying why.")
    ] = None,
    province: Province = None,
) -> None:
    """Next ramp step or wave (the gate must pass, or give --override-reason)."""
    _echo_step(
        _change(
            flag,
            province,
            waves.step_forward,
            action=waves.Action.ADVANCE,
            actor=actor,
            kpis=kpi_source(),
            override_reason=override_reason,
        )
    )


@rollout_app.command()
def pause(flag: Flag, actor: Actor, reason: Reason, province: Province = None) -> None:
    """Freeze the plan."""
    view = _change(flag, province, waves.pause, actor=actor, reason=reason)
    typer.echo(f"{flag}: {view.plan.status}")


@rollout_app.command()
def resume(flag: Flag, actor: Actor, reason: Reason, province: Province = None) -> None:
    """Let a paused plan advance again."""
    view = _change(flag, province, waves.resume, actor=actor, reason=reason)
    typer.echo(f"{flag}: {view.plan.status}")


@rollout_app.command()
def rollback(flag: Flag, actor: Actor, reason: Reason, province: Province = None) -> None:
    """Instantly back to the previous step's state."""
    view = _change(flag, province, waves.rollback, actor=actor, reason=reason)
    typer.echo(
        f"{flag}: {view.plan.status}, wave {view.plan.current_wave} step {view.plan.current_step}"
    )


@rollout_app.command()
def approve(
    approval_id: Annotated[str, typer.Argument(help="The id printed by start/advance.")],
    actor: Actor,
    province: Province = None,
) -> None:
    """Carry out a step another province admin requested (four eyes)."""
    try:
        parsed = uuid.UUID(approval_id)
    except ValueError:
        typer.secho(
            "APPROVAL_NOT_FOUND: There is no pending approval with this id.", err=True, fg="red"
        )
        raise typer.Exit(1) from None

    async def work(session: AsyncSession) -> waves.StepOutcome:
        province_id = await province_of(session, province)
        outcome = await waves.approve(
            session=session, province_id=province_id, approval_id=parsed, actor=actor, now=utc_now()
        )
        await session.commit()
        await notify(session, CHANNEL, outcome.view.plan.flag_key)
        return outcome

    _echo_step(_run(work))


def _describe(check: WaveCheck) -> str:
    head = f"{check.flag_key} wave {check.wave} {check.name!r}"
    if check.outcome is Outcome.OFF:
        return f"{head}: guardrail off"
    total = check.total
    change = "n/a" if total.change is None else f"{total.change:+.1%}"
    return (
        f"{head} ({', '.join(check.tenants)}): {total.earlier:,} → {total.recent:,} ({change}) "
        f"in the week to {check.as_of.isoformat()}, threshold {check.drop * 100:g}%: "
        f"{VERDICTS[check.outcome]}"
    )


@rollout_app.command("guardrail")
def guardrail_command(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Judge and print only: pause nothing.")
    ] = False,
) -> None:
    """Check every running plan once; pause those whose waves' weekly active members fell."""
    from gateway.state import guardrail_policy

    policy = guardrail_policy(settings_or_exit())

    async def work(session: AsyncSession) -> list[WaveCheck]:
        return await guardrail.check(
            session=session, kpis=kpi_source(), policy=policy, now=utc_now(), dry_run=dry_run
        )

    checks = asyncio.run(with_session(work))
    if not checks:
        typer.echo("No running rollout plan.")
    for check in checks:
        typer.echo(_describe(check))
