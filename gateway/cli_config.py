"""``pilotgraph rollout export|import``: a province's rollout configuration as YAML.

``import`` applies the whole file in one transaction through the audited services, or nothing;
``--dry-run`` prints the same diff and rolls it back.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from db.broadcast import notify
from db.clock import utc_now
from gateway.cli_rollout import Actor, Province, _run, province_of, rollout_app
from rollout.config.export import export, to_yaml
from rollout.config.importer import import_config
from rollout.errors import InvalidYaml
from rollout.snapshot import CHANNEL


@rollout_app.command("export")
def export_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: stdout).")
    ] = None,
    province: Province = None,
) -> None:
    """Write the province's flags, rules, overrides and plans as YAML."""

    async def work(session: AsyncSession) -> Any:
        return await export(session=session, province_id=await province_of(session, province))

    text = to_yaml(_run(work))
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def _read(source: Path) -> str:
    try:
        return sys.stdin.read() if str(source) == "-" else source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidYaml(f"Cannot read {source}: {exc}.") from None


@rollout_app.command("import")
def import_command(
    source: Annotated[Path, typer.Argument(help="The YAML file ('-': stdin).")],
    actor: Actor,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the diff; change nothing.")
    ] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (audited).")] = "",
    province: Province = None,
) -> None:
    """Apply a configuration file: all of it or nothing; prints what changed."""

    async def work(session: AsyncSession) -> list[str]:
        text = _read(source)
        applied = await import_config(
            session=session,
            province_id=await province_of(session, province),
            text=text,
            actor=actor,
            reason=reason,
            now=utc_now(),
        )
        if dry_run or not applied.changes:
            await session.rollback()
        else:
            await session.commit()
            await notify(session, CHANNEL, "import")
        return applied.changes

    changes = _run(work)
    for line in changes:
        typer.echo(line)
    verdict = "would change" if dry_run else "changed"
    typer.echo(f"{verdict} {len(changes)} field(s)" if changes else "nothing to change")
