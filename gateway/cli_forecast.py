"""The wave forecast as ``pilotgraph rollout status`` prints it."""

from __future__ import annotations

import typer

from rollout.forecast import CriterionForecast, PlanForecast


def echo_forecast(found: PlanForecast) -> None:
    """The fit, then each next wave's thresholds: date and 10th–90th percentile interval."""
    fit = found.fit
    if fit is None:
        reason = found.reason.value if found.reason else "-"
        typer.echo(f"  forecast: none ({reason})")
        return
    typer.echo(
        f"  forecast: Bass p={fit.p:.4f} q={fit.q:.4f} rmse={fit.rmse:.3f} "
        f"over {found.days_observed} days"
    )
    for wave in found.waves:
        opens = wave.opens.isoformat() if wave.opens else "-"
        typer.echo(f"    wave {wave.position} gate opens {opens} (held {wave.sustain_days} days)")
        for criterion in wave.criteria:
            typer.echo(f"      {_criterion(criterion)}")


def _criterion(c: CriterionForecast) -> str:
    what = f"{c.metric.value} ≥ {c.minimum:.0%}"
    if c.date is None:
        return f"{what}: no date ({c.reason.value if c.reason else '-'})"
    interval = f"{c.earliest.isoformat() if c.earliest else '-'} … "
    interval += c.latest.isoformat() if c.latest else "-"
    return f"{what}: {c.date.isoformat()} ({interval})"
