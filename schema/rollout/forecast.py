"""GraphQL types of the wave forecast, and ``RolloutState.forecast``'s resolver."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Protocol

import strawberry
from strawberry.types import Info

from rollout import forecast
from schema.context import Context
from schema.rollout.access import rollout_province


@strawberry.enum(description="Why a forecast or one of its dates is missing.")
class ForecastUnavailable(Enum):
    NOT_RUNNING = "NOT_RUNNING"
    NO_ACTIVATION = "NO_ACTIVATION"
    TOO_FEW_DAYS = "TOO_FEW_DAYS"
    FIT_FAILED = "FIT_FAILED"
    NOT_MODELLED = "NOT_MODELLED"
    UNREACHABLE = "UNREACHABLE"
    START_UNKNOWN = "START_UNKNOWN"


@strawberry.type(description="The Bass diffusion model fitted to the activation curves.")
class BassFit:
    innovation: float = strawberry.field(description="p: the daily rate of starting unprompted.")
    imitation: float = strawberry.field(description="q: the daily rate of following others.")
    rmse: float = strawberry.field(description="Root mean square residual, in share activated.")
    points: int = strawberry.field(description="Days of the pooled curve fitted.")


@strawberry.type(description="When the earlier waves' tenants will all meet one gate threshold.")
class CriterionForecast:
    metric: str
    minimum: float
    date: dt.date | None = strawberry.field(description="The forecast day; null: see reason.")
    earliest: dt.date | None = strawberry.field(description="10th percentile (bootstrap).")
    latest: dt.date | None = strawberry.field(description="90th percentile (bootstrap).")
    reason: ForecastUnavailable | None

    @classmethod
    def from_forecast(cls, c: forecast.CriterionForecast) -> CriterionForecast:
        return cls(
            metric=c.metric.value,
            minimum=c.minimum,
            date=c.date,
            earliest=c.earliest,
            latest=c.latest,
            reason=None if c.reason is None else ForecastUnavailable(c.reason.value),
        )


@strawberry.type(description="A wave not yet started: when its gate's thresholds will be met.")
class WaveForecast:
    position: int
    sustain_days: int
    criteria: list[CriterionForecast]
    opens: dt.date | None = strawberry.field(
        description="Every activation threshold met and held sustainDays; null when a date is "
        "missing."
    )


@strawberry.type(description="The wave forecast of a running plan (docs/ROLLOUT.md).")
class RolloutForecast:
    fit: BassFit | None
    days_observed: int
    waves: list[WaveForecast]
    reason: ForecastUnavailable | None = strawberry.field(
        description="Why there is no fit; null when there is one."
    )

    @classmethod
    def from_forecast(cls, f: forecast.PlanForecast) -> RolloutForecast:
        fit = f.fit
        return cls(
            fit=None
            if fit is None
            else BassFit(innovation=fit.p, imitation=fit.q, rmse=fit.rmse, points=fit.points),
            days_observed=f.days_observed,
            waves=[
                WaveForecast(
                    position=w.position,
                    sustain_days=w.sustain_days,
                    criteria=[CriterionForecast.from_forecast(c) for c in w.criteria],
                    opens=w.opens,
                )
                for w in f.waves
            ],
            reason=None if f.reason is None else ForecastUnavailable(f.reason.value),
        )


class _OfFlag(Protocol):
    flag: str


async def resolve_forecast(
    root: strawberry.Parent[_OfFlag], info: Info[Context, None]
) -> RolloutForecast | None:
    """The plan's wave forecast (computed only when asked: it fits a model)."""
    ctx = info.context
    found = await ctx.run_province(
        forecast.forecast,
        province_id=rollout_province(ctx),
        flag_key=root.flag,
        kpis=ctx.kpis,
        now=ctx.now,
    )
    return None if found is None else RolloutForecast.from_forecast(found)
