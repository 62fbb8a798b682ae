"""The forecast's backtest: fit on the first weeks of a curve, score the later weeks."""

from __future__ import annotations

import datetime as dt

from rollout.backtest import backtest
from rollout.kpi import ActivationDay
from tests.rollout.test_forecast import curve


def test_a_bass_curve_backtests_without_error():
    # given: 200 days of an exact Bass curve
    days = curve(200)
    # when: fitted on its first 6 weeks, scored on the next 12
    result = backtest(days, weeks_fitted=6, weeks_scored=12, target=0.9)
    # then
    assert result.fit is not None
    assert result.weeks_scored == 12
    assert result.mean_error is not None
    assert result.mean_error < 1e-3
    assert result.max_error is not None
    assert result.max_error < 1e-3
    assert result.reached is not None
    assert result.forecast_reached is not None
    assert abs((result.forecast_reached - result.reached).days) <= 1


def test_a_curve_that_plateaus_below_the_market_still_gets_a_date_and_shows_its_error():
    # given: 92% of members activate, the rest never (as the demo's pilot)
    days = [ActivationDay(d.day, round(0.92 * d.activated), d.members) for d in curve(200, q=0.15)]
    # when
    result = backtest(days, weeks_fitted=4, weeks_scored=12, target=0.9)
    # then: the model (market = every member) gives a date, and the later weeks show the gap
    assert result.reached is not None
    assert result.forecast_reached is not None
    assert result.max_error is not None
    assert result.max_error > 0.05


def test_a_curve_without_activation_has_no_backtest():
    days = [ActivationDay(dt.date(2026, 1, 1) + dt.timedelta(days=i), 0, 100) for i in range(60)]
    result = backtest(days, weeks_fitted=4, weeks_scored=12, target=0.9)
    assert (result.fit, result.mean_error, result.weeks_scored) == (None, None, 0)
