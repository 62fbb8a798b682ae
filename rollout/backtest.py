"""Backtest of the wave forecast's model: fit on a tenant's first weeks, score its later weeks.

Pure, over one tenant's daily activation curve (:class:`rollout.kpi.ActivationDay`, oldest first).
The docs' figures (docs/ROLLOUT.md, "Wave forecast") come from ``bench/forecast_backtest.py``,
which runs this on the demo's Yen Mo.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from rollout import bass
from rollout.forecast_curves import pooled, progress
from rollout.kpi import ActivationDay

WEEK = 7


@dataclass(frozen=True, slots=True)
class Backtest:
    weeks_fitted: int
    fit: bass.Fit | None
    mean_error: float | None  # mean |forecast − actual| share over the later weeks
    max_error: float | None
    weeks_scored: int
    # the day the curve first reached ``target``, and the day the fit said it would
    reached: dt.date | None
    forecast_reached: dt.date | None


def backtest(
    curve: Sequence[ActivationDay], *, weeks_fitted: int, weeks_scored: int, target: float
) -> Backtest:
    """Fit on the first ``weeks_fitted`` weeks from the curve's start; score the next weeks."""
    start = progress(curve).start
    if start is None:
        return Backtest(weeks_fitted, None, None, None, 0, None, None)
    cut = start + dt.timedelta(days=WEEK * weeks_fitted)
    found = bass.fit(pooled({"fitted": [d for d in curve if d.day <= cut]}))
    reached = next((d.day for d in curve if d.members and d.activated / d.members >= target), None)
    if found is None:
        return Backtest(weeks_fitted, None, None, None, 0, reached, None)
    days = {d.day: d for d in curve if d.members}
    scored = [
        abs(found.share((day - start).days) - days[day].activated / days[day].members)
        for week in range(weeks_fitted + 1, weeks_fitted + weeks_scored + 1)
        if (day := start + dt.timedelta(days=WEEK * week)) in days
    ]
    needed = found.days_to(target)
    forecast = None if needed is None else start + dt.timedelta(days=round(needed))
    mean = sum(scored) / len(scored) if scored else None
    return Backtest(
        weeks_fitted, found, mean, max(scored, default=None), len(scored), reached, forecast
    )
