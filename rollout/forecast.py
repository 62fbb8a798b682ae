"""Wave forecast: the date each next wave's gate thresholds will be met, with an interval.

For a running plan, a Bass diffusion model (:mod:`rollout.bass`, market = the tenant's members) is
fitted to the pooled activation curve of the tenants already on (:mod:`rollout.forecast_curves`).
Then, for each wave after the current one, each activation criterion of its gate is met on the
day the slowest tenant of the earlier waves reaches the threshold:

- a tenant already on is placed on the fitted curve where its own share stands today and moves
  along it (so a district ahead of or behind the pooled curve keeps its lead or lag);
- a tenant of a wave not yet started starts when that wave may start: its gate's activation
  thresholds met and held ``sustain_days``, and not before its earliest start.

The interval is the 10th–90th percentile of the same dates over refits on resampled residuals
(a residual bootstrap, fixed seed: the same data always gives the same answer).

Invariants: no date is made up. Without enough data the forecast is None with a reason; a
criterion the model does not describe (monthly active) or cannot reach (a threshold of 100%)
has no date and says why; a wave whose start depends on such a criterion has no date either.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from rollout import bass, plans
from rollout.forecast_curves import Progress, pooled, progress
from rollout.gates import local_day
from rollout.kpi import Criterion, KpiSource, Metric
from rollout.models import PlanStatus

LOOKBACK_DAYS = 400  # the activation history read; a curve starting earlier starts here
MIN_DAYS = 14  # fewer days observed since the first activation: no forecast
SAMPLES = 40  # bootstrap refits
INTERVAL = (0.1, 0.9)
SEED = 18


class Unavailable(StrEnum):
    NOT_RUNNING = "NOT_RUNNING"  # the plan is not running: nothing moves
    NO_ACTIVATION = "NO_ACTIVATION"  # no tenant already on has an activated member
    TOO_FEW_DAYS = "TOO_FEW_DAYS"  # fewer than MIN_DAYS days observed since the first activation
    FIT_FAILED = "FIT_FAILED"  # the least squares found no fit
    NOT_MODELLED = "NOT_MODELLED"  # the criterion's metric is not activation
    UNREACHABLE = "UNREACHABLE"  # a threshold of 100% is only approached
    START_UNKNOWN = "START_UNKNOWN"  # an earlier wave's start could not be forecast


@dataclass(frozen=True, slots=True)
class CriterionForecast:
    metric: Metric
    minimum: float
    date: dt.date | None  # the day the slowest earlier tenant reaches ``minimum``
    earliest: dt.date | None
    latest: dt.date | None
    reason: Unavailable | None  # why there is no date


@dataclass(frozen=True, slots=True)
class WaveForecast:
    position: int
    sustain_days: int
    criteria: tuple[CriterionForecast, ...]
    opens: dt.date | None  # every activation threshold met and held sustain_days


@dataclass(frozen=True, slots=True)
class PlanForecast:
    fit: bass.Fit | None
    days_observed: int
    waves: tuple[WaveForecast, ...]
    reason: Unavailable | None  # why there is no fit (then ``waves`` is empty)


async def forecast(
    *, session: AsyncSession, province_id: str, flag_key: str, kpis: KpiSource, now: dt.datetime
) -> PlanForecast | None:
    """The province's plan's forecast, or None when the flag has no plan there."""
    view = await plans.get(session=session, province_id=province_id, flag_key=flag_key)
    if view is None:
        return None
    if view.plan.status != PlanStatus.RUNNING.value:
        return PlanForecast(None, 0, (), Unavailable.NOT_RUNNING)
    today = local_day(now)
    on = [t for ts in view.tenants[: view.plan.current_wave + 1] for t in ts]
    curves = await kpis.activation_days(
        session=session,
        tenant_ids=on,
        first=today - dt.timedelta(days=LOOKBACK_DAYS),
        last=today,
    )
    return from_curves(view, {t: progress(c) for t, c in curves.items()}, pooled(curves), today)


def from_curves(
    view: plans.PlanView,
    standing: Mapping[str, Progress],
    points: Sequence[bass.Point],
    today: dt.date,
) -> PlanForecast:
    """The forecast from the tenants' standing and the pooled curve (pure)."""
    if not points:
        return PlanForecast(None, 0, (), Unavailable.NO_ACTIVATION)
    if len(points) < MIN_DAYS:
        return PlanForecast(None, len(points), (), Unavailable.TOO_FEW_DAYS)
    base = bass.fit(points)
    if base is None:
        return PlanForecast(None, len(points), (), Unavailable.FIT_FAILED)
    resampled = bass.bootstrap(points, base, samples=SAMPLES, seed=SEED)
    chains = [_chain(view, standing, fit, today) for fit in [base, *resampled]]
    waves = tuple(_summary(view, chains, position, today) for position in _next(view))
    return PlanForecast(base, int(points[-1].t), waves, None)


def _next(view: plans.PlanView) -> range:
    return range(view.plan.current_wave + 1, len(view.waves))


# Per wave after the current: each criterion's offset in days from today (None: no date), and the
# offset at which the wave may start.
Chain = dict[int, tuple[list[float | None], float | None]]


def _chain(
    view: plans.PlanView, standing: Mapping[str, Progress], fit: bass.Fit, today: dt.date
) -> Chain:
    """Every next wave's criterion offsets and start offset under one fit."""
    starts: dict[int, float | None] = {w: 0.0 for w in range(view.plan.current_wave + 1)}
    chain: Chain = {}
    for position in _next(view):
        wave = view.waves[position]
        offsets = [
            _criterion_offset(view, standing, fit, starts, position, c.metric, c.minimum)
            for c in plans.criteria_of(wave)
        ]
        opens = _opens(offsets, plans.criteria_of(wave), wave.gate_sustain_days)
        earliest = _offset(wave.earliest_start, today)
        start = None if opens is None else max(opens, earliest, starts[position - 1] or 0.0)
        starts[position] = start
        chain[position] = (offsets, start)
    return chain


def _offset(moment: dt.datetime | None, today: dt.date) -> float:
    return 0.0 if moment is None else max(0.0, float((local_day(moment) - today).days))


def _opens(
    offsets: Sequence[float | None], criteria: Sequence[Criterion], sustain_days: int
) -> float | None:
    """When the gate's activation thresholds are met and held; None when one has no date."""
    modelled = [o for o, c in zip(offsets, criteria, strict=True) if _models(c.metric)]
    if any(o is None for o in modelled):
        return None
    return max((o for o in modelled if o is not None), default=0.0) + sustain_days


def _models(metric: Metric) -> bool:
    return metric is Metric.ACTIVATION_RATE


def _criterion_offset(
    view: plans.PlanView,
    standing: Mapping[str, Progress],
    fit: bass.Fit,
    starts: Mapping[int, float | None],
    position: int,
    metric: Metric,
    minimum: float,
) -> float | None:
    """Days from today until every tenant of the waves before ``position`` reaches ``minimum``."""
    needed = fit.days_to(minimum)
    if not _models(metric) or needed is None:
        return None
    slowest = 0.0
    for wave in range(position):
        for tenant in view.tenants[wave]:
            days = _tenant_days(standing.get(tenant), fit, needed, minimum, starts[wave])
            if days is None:
                return None
            slowest = max(slowest, days)
    return slowest


def _tenant_days(
    stand: Progress | None,
    fit: bass.Fit,
    needed: float,
    minimum: float,
    start: float | None,
) -> float | None:
    """Days from today until one tenant reaches ``minimum`` (``needed`` days on the curve)."""
    if start is None:
        return None
    if stand is None:  # its wave is not on yet: it starts at ``start``
        return start + needed
    if stand.share >= minimum:
        return 0.0
    already = fit.days_to(stand.share) or 0.0
    return max(0.0, needed - already)


def _summary(
    view: plans.PlanView, chains: Sequence[Chain], position: int, today: dt.date
) -> WaveForecast:
    """The wave's dates under the fit, with the bootstrap's percentiles as the interval."""
    wave = view.waves[position]
    criteria = []
    for index, c in enumerate(plans.criteria_of(wave)):
        values = [chain[position][0][index] for chain in chains]
        criteria.append(_criterion(c.metric, c.minimum, values, today))
    opens = chains[0][position][1]
    return WaveForecast(position, wave.gate_sustain_days, tuple(criteria), _date(today, opens))


def _criterion(
    metric: Metric, minimum: float, values: Sequence[float | None], today: dt.date
) -> CriterionForecast:
    base = values[0]
    if base is None:
        reason = (
            Unavailable.NOT_MODELLED
            if not _models(metric)
            else Unavailable.UNREACHABLE
            if minimum >= 1
            else Unavailable.START_UNKNOWN
        )
        return CriterionForecast(metric, minimum, None, None, None, reason)
    spread = [v for v in values[1:] if v is not None] or [base]
    low = min(base, bass.quantile(spread, INTERVAL[0]))
    high = max(base, bass.quantile(spread, INTERVAL[1]))
    return CriterionForecast(
        metric, minimum, _date(today, base), _date(today, low), _date(today, high), None
    )


def _date(today: dt.date, offset: float | None) -> dt.date | None:
    return None if offset is None else today + dt.timedelta(days=math.ceil(offset))
